import ast
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils.module_loading import import_string
from django_q.models import Schedule

from apps.accounts import services
from apps.accounts.management.commands import bootstrap as bootstrap_command
from apps.accounts.models import Membership, User
from apps.billing.models import RateCard, RateCardVersion


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


def _bootstrap() -> list[str]:
    out = io.StringIO()
    call_command("bootstrap", "--email", "boss@example.com", "--password", "a long password 123", stdout=out)
    return out.getvalue().splitlines()


def test_it_runs_each_apps_bootstrap_step_in_installed_apps_order_once(db):
    assert _bootstrap() == [
        "Created staff admin boss@example.com.",
        "Core: scheduled lost-job recovery every minute.",
        "Work log: scheduled the daily purge of entries deleted more than 30 days ago.",
        "Billing: installed the default rate card 'standard'.",
        "Billing: scheduled hold expiry every 5 minutes.",
        "Notifications: scheduled weekly reminders hourly.",
        "Notifications: scheduled follow-ups due hourly.",
        "Metrics: scheduled daily snapshots every 15 minutes.",
        "Metrics: scheduled reconciliation every 60 minutes.",
        "Metrics: added model costs for gpt-4o-mini, builtin.",
    ]
    assert _bootstrap() == [
        "Updated staff admin boss@example.com.",
        "Core: lost-job recovery is scheduled every minute.",
        "Work log: the daily purge of entries deleted more than 30 days ago is scheduled.",
        "Billing: rate card 'standard' is already installed; left as it is.",
        "Billing: hold expiry is scheduled every 5 minutes.",
        "Notifications: weekly reminders are scheduled hourly.",
        "Notifications: follow-ups due are scheduled hourly.",
        "Metrics: daily snapshots are scheduled every 15 minutes.",
        "Metrics: reconciliation is scheduled every 60 minutes.",
        "Metrics: model costs are set; left as they are.",
    ]
    assert (RateCard.objects.count(), RateCardVersion.objects.count()) == (1, 1)
    schedules = dict(Schedule.objects.values_list("name", "func"))
    assert schedules == {
        "core: requeue lost jobs": "apps.core.tasks.jobs_requeue_lost",
        "worklog: purge deleted entries": "apps.worklog.services.entry_purge_deleted",
        "billing: expire holds": "apps.billing.tasks.holds_expire",
        "notifications: weekly reminders": "apps.notifications.tasks.capture_reminders_send",
        "notifications: follow-ups due": "apps.notifications.tasks.follow_ups_send",
        "metrics: daily snapshots": "apps.metrics.tasks.snapshots_recent",
        "billing: reconcile": "apps.metrics.tasks.billing_reconcile",
    }
    assert all(callable(import_string(func)) for func in schedules.values())


def test_it_keeps_accounts_ignorant_of_money():
    """Dependencies point from billing to accounts; the command only knows that apps may have a step."""
    source = Path(bootstrap_command.__file__).read_text()
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {
        name
        for name in imported
        if name and not name.startswith(("apps.accounts", "apps.core", "django", "os"))
    }
    assert "billing" not in source.lower() and "rate card" not in source.lower()
