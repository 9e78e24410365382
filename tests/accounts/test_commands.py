import pytest
from django.core.management import CommandError, call_command

from apps.accounts import services
from apps.accounts.models import Membership, User


def test_it_prints_the_invite_code_alone_on_the_last_line(db, capsys):
    call_command("create_invite", "--uses", "3", "--expires-in-days", "10", "--note", "for the team")
    out = capsys.readouterr().out.strip().splitlines()
    code = out[-1]
    invite = services.invite_check(code=code)
    assert (invite.max_uses, invite.note) == (3, "for the team")
    assert invite.expires_at is not None


def test_it_refuses_a_bad_invite_request(db):
    with pytest.raises(CommandError, match="Uses must be between"):
        call_command("create_invite", "--uses", "0")


def test_it_bootstraps_the_admin_idempotently(db, monkeypatch):
    monkeypatch.setenv("ADMIN_EMAIL", "Boss@Example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", "first password 123")
    call_command("bootstrap")
    monkeypatch.setenv("ADMIN_PASSWORD", "second password 456")
    call_command("bootstrap")
    admin = User.objects.get()
    assert admin.email == "boss@example.com"
    assert admin.is_staff and admin.is_superuser
    assert admin.check_password("second password 456")
    assert Membership.objects.filter(user=admin, role="owner").count() == 1
    assert admin.emailaddress_set.get().verified


def test_it_needs_admin_credentials(db, monkeypatch):
    monkeypatch.delenv("ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="ADMIN_EMAIL"):
        call_command("bootstrap")
