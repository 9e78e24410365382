"""Allauth's pages and emails in our voice: sentence case, "AfterResume" rather than the host name, and an
email-addresses page that offers only the actions that can apply."""

import gettext
import re
from html import unescape
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail

from apps.accounts import services
from tests.accounts.test_signup import SIGNUP, signup_data

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"


def po_entries() -> dict[tuple[str, str], list[str]]:
    """(context, msgid) -> msgstr forms, from our django.po (a small reader for the subset we write)."""

    def unquote(line: str) -> str:
        return line.split(" ", 1)[1][1:-1].replace('\\"', '"').replace("\\n", "\n")

    entries, current = {}, {}
    for line in [*(CATALOGUE / "django.po").read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if current.get("msgid"):
                entries[(current.get("msgctxt", ""), current["msgid"])] = current["msgstr"]
            current = {}
        elif line.startswith("msgctxt "):
            current["msgctxt"] = unquote(line)
        elif line.startswith("msgid "):
            current["msgid"] = unquote(line)
        elif line.startswith(("msgstr ", "msgstr[")):
            current.setdefault("msgstr", []).append(unquote(line))
    return entries


def visible_text(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_it_ships_a_compiled_catalogue_that_matches_its_source():
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        translations = gettext.GNUTranslations(compiled)
    entries = po_entries()
    assert len(entries) > 50
    for (context, msgid), forms in entries.items():
        if "\x00" in msgid or msgid.startswith("You have added"):
            continue
        got = translations.pgettext(context, msgid) if context else translations.gettext(msgid)
        assert got == forms[0], (
            f"django.mo is out of date for {msgid!r}: run "
            "msgfmt -o locale/en/LC_MESSAGES/django.mo locale/en/LC_MESSAGES/django.po"
        )
    assert translations.ngettext("You have added %(count)s security key.", "", 2).endswith("passkeys.")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/accounts/login/", ["Sign in", "Remember me", "Forgot your password?"]),
        ("/accounts/signup/", ["Create your account", "Create account", "Time zone"]),
        ("/accounts/password/reset/", ["Password reset", "Reset my password"]),
    ],
)
def test_it_writes_the_public_pages_in_sentence_case(client, db, url, expected):
    text = visible_text(client.get(url))
    for phrase in expected:
        assert phrase in text
    for (_context, msgid), _forms in po_entries().items():
        assert f" {msgid} " not in f" {text} ", f"{url} still says {msgid!r}"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/accounts/email/", ["Email addresses", "Add email"]),
        ("/accounts/password/change/", ["Change password", "Current password", "New password (again)"]),
        ("/accounts/2fa/", ["Two-factor authentication", "Authenticator app", "Passkeys", "Recovery codes"]),
    ],
)
def test_it_writes_the_account_pages_in_sentence_case(alice_client, url, expected):
    text = visible_text(alice_client.get(url))
    for phrase in expected:
        assert phrase in text
    for (_context, msgid), _forms in po_entries().items():
        assert f" {msgid} " not in f" {text} ", f"{url} still says {msgid!r}"
    assert "Two-Factor" not in text and "Security Keys" not in text


def test_it_asks_for_the_emailed_code_in_sentence_case_and_names_afterresume(client, db):
    _invite, code = services.invite_create(created_by=None)
    response = client.post(SIGNUP, signup_data(code), follow=True)
    text = visible_text(response)
    assert "Enter email verification code" in text and "Enter Email Verification Code" not in text

    message = mail.outbox[-1]
    assert message.subject == "[AfterResume] Confirm your email address"
    assert "AfterResume" in message.body and "testserver" not in message.body
    assert "Welcome to AfterResume." in message.body and "— The AfterResume team" in message.body
    assert re.search(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$", message.body, re.MULTILINE)


def test_it_names_afterresume_in_the_password_reset_email(client, alice):
    client.post("/accounts/password/reset/", {"email": alice.email})
    message = mail.outbox[-1]
    assert message.subject == "[AfterResume] Reset your password"
    assert message.body.startswith("Hello from AfterResume!")
    assert "Hello from testserver" not in message.body


def test_it_offers_no_action_for_the_only_verified_primary_address(alice_client):
    page = alice_client.get("/accounts/email/").content.decode()
    assert "alice@example.com" in page and "This is your only address" in page
    for action in ("action_primary", "action_send", "action_remove"):
        assert f'name="{action}"' not in page
    assert 'name="action_add"' in page


def _actions_for(page: str, email: str) -> set[str]:
    row_start = page.index(f'<span class="fw-medium text-break">{email}</span>')
    row = page[row_start : page.index("</li>", row_start)]
    return set(re.findall(r'name="(action_\w+)"', row))


def test_it_offers_only_the_actions_that_apply_to_each_address(alice_client, alice):
    EmailAddress.objects.create(user=alice, email="alice@work.example", verified=False, primary=False)
    EmailAddress.objects.create(user=alice, email="alice@home.example", verified=True, primary=False)
    page = alice_client.get("/accounts/email/").content.decode()
    assert _actions_for(page, "alice@example.com") == set()  # primary and verified
    assert _actions_for(page, "alice@work.example") == {"action_send", "action_remove"}
    assert _actions_for(page, "alice@home.example") == {"action_primary", "action_remove"}


def test_it_makes_a_verified_address_primary_from_its_own_button(alice_client, alice):
    EmailAddress.objects.create(user=alice, email="alice@home.example", verified=True, primary=False)
    response = alice_client.post(
        "/accounts/email/", {"email": "alice@home.example", "action_primary": ""}, follow=True
    )
    assert response.status_code == 200
    assert EmailAddress.objects.get(user=alice, primary=True).email == "alice@home.example"
