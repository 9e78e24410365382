from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.worklog.models import Employer, Entry

# 20:00 in UTC on March 1st is already March 2nd in Auckland (UTC+13).
NOW = datetime.fromisoformat("2025-03-01T20:00:00+00:00")


def _pending(tenant, title: str, follow_up_on: date, **fields) -> Entry:
    return Entry.objects.create(
        tenant=tenant,
        occurred_on=date(2025, 1, 10),
        title=title,
        outcome_pending=True,
        follow_up_on=follow_up_on,
        **fields,
    )


def follow_up_card(client) -> str:
    """The "Add the result" card of the dashboard ("" when it is not shown)."""
    page = client.get(reverse("dashboard")).content.decode()
    if 'id="follow-ups"' not in page:
        return ""
    start = page.rindex("<section", 0, page.index('id="follow-ups"'))
    return page[start : page.index("</section>", start)]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_it_asks_for_the_result_of_entries_whose_follow_up_has_come(alice_client, tenant, frozen):
    acme = Employer.objects.create(tenant=tenant, name="Acme")
    due = _pending(tenant, "Proposed the on-call rota", date(2025, 2, 20), employer=acme)
    today = _pending(tenant, "Launched the pricing test", date(2025, 3, 1))
    _pending(tenant, "Not yet", date(2025, 3, 9))
    Entry.objects.create(
        tenant=tenant, occurred_on=date(2025, 1, 5), title="Result known", follow_up_on=date(2025, 2, 1)
    )
    gone = _pending(tenant, "Deleted one", date(2025, 2, 1))
    Entry.objects.filter(pk=gone.pk).update(deleted_at=NOW)

    page = alice_client.get(reverse("dashboard")).content.decode()
    card = follow_up_card(alice_client)

    assert "Add the result" in card
    assert card.index("Proposed the on-call rota") < card.index("Launched the pricing test")
    assert "Acme" in card and "due since" in card and "due today" in card
    assert reverse("worklog_entry_edit", kwargs={"pk": due.pk}) in card
    assert reverse("worklog_entry_edit", kwargs={"pk": today.pk}) in card
    assert "Not yet" not in card and "Result known" not in card and "Deleted one" not in card
    # The card comes first, above the workspace and security cards.
    assert page.index('id="follow-ups"') < page.index('id="workspace-title"')


def test_it_uses_the_persons_own_date(alice_client, alice, tenant, frozen):
    _pending(tenant, "Due in Auckland", date(2025, 3, 2))
    assert "Due in Auckland" not in follow_up_card(alice_client)

    alice.time_zone = "Pacific/Auckland"
    alice.save(update_fields=["time_zone"])
    assert "Due in Auckland" in follow_up_card(alice_client)


def test_it_shows_no_card_when_nothing_is_due(alice_client, tenant, frozen):
    _pending(tenant, "Later", date(2025, 6, 1))
    assert follow_up_card(alice_client) == ""


def test_it_never_shows_another_workspaces_entries(alice_client, other_tenant, frozen):
    _pending(other_tenant, "Secret plan of another workspace", date(2025, 2, 1))
    page = alice_client.get(reverse("dashboard")).content.decode()
    assert "Secret plan" not in page and follow_up_card(alice_client) == ""


def test_it_asks_the_database_the_same_number_of_times_however_many_are_due(alice_client, tenant, frozen):
    acme = Employer.objects.create(tenant=tenant, name="Acme")
    _pending(tenant, "One", date(2025, 2, 1), employer=acme)
    with CaptureQueriesContext(connection) as few:
        alice_client.get(reverse("dashboard"))
    for i in range(20):
        _pending(tenant, f"More {i}", date(2025, 2, 1) - timedelta(days=i), employer=acme)
    with CaptureQueriesContext(connection) as many:
        page = alice_client.get(reverse("dashboard")).content.decode()
    assert len(many) == len(few)
    assert "Showing the 8 longest waiting." in page
