"""The status bar: balance and today's tokens (the person's day), in the API and the top bar, in one query."""

import re
from datetime import UTC, datetime

import time_machine
from django.test import Client

from apps.accounts import services as account_services
from apps.billing import services
from apps.billing.status_bar import status_bar_read

DOLLAR = 1_000_000
# 11:30 UTC is 23:30 on the 10th in Auckland (UTC+12 in June); 12:30 UTC is 00:30 on the 11th there.
LATE_EVENING = datetime(2025, 6, 10, 11, 30, tzinfo=UTC)
JUST_AFTER_MIDNIGHT = datetime(2025, 6, 10, 12, 30, tzinfo=UTC)
NOW = datetime(2025, 6, 10, 13, 0, tzinfo=UTC)


def _use(tenant, key: str, at: datetime, prompt: int, completion: int):
    return services.usage_record(
        tenant=tenant,
        model="gpt-4o-mini",
        quantities={"llm_prompt_tokens": prompt, "llm_completion_tokens": completion},
        idempotency_key=key,
        occurred_at=at,
    )


def _badge_tokens(page: str) -> str:
    """The text of the badge's tokens (what a wide screen shows; a phone leaves out "in" and "out")."""
    found = re.search(
        r'<span class="ar-num ar-reserve-tokens" id="reserve-badge-tokens"[^>]*>(.*?)</span>\n', page
    )
    assert found, "no tokens in the badge"
    return re.sub(r"<[^>]+>", "", found.group(1))


def _fund(tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=10 * DOLLAR, idempotency_key=f"top-{tenant.slug}")


def test_it_answers_the_balance_and_todays_tokens(alice_client, tenant, rate_card):
    _fund(tenant, rate_card)
    with time_machine.travel(NOW, tick=False):
        _use(tenant, "u1", LATE_EVENING, 1000, 200)
        body = alice_client.get("/api/status/bar/").json()
    assert set(body) == {"balance_micros", "available_micros", "tokens_in", "tokens_out", "updated_at"}
    assert (body["tokens_in"], body["tokens_out"]) == (1000, 200)
    assert body["balance_micros"] == body["available_micros"] == 10 * DOLLAR - 150 - 120
    assert body["updated_at"] == "2025-06-10T13:00:00Z"


def test_it_counts_today_in_the_persons_time_zone(alice, tenant, rate_card):
    _fund(tenant, rate_card)
    with time_machine.travel(NOW, tick=False):
        _use(tenant, "evening", LATE_EVENING, 1000, 100)
        _use(tenant, "midnight", JUST_AFTER_MIDNIGHT, 40, 4)
        utc = _token_client(alice).get("/api/status/bar/").json()
        alice.time_zone = "Pacific/Auckland"
        alice.save(update_fields=["time_zone"])
        auckland = _token_client(alice).get("/api/status/bar/").json()
        session = Client()
        session.force_login(alice)
        by_session = session.get("/api/status/bar/").json()
    assert (utc["tokens_in"], utc["tokens_out"]) == (1040, 104)  # the whole UTC day
    assert (auckland["tokens_in"], auckland["tokens_out"]) == (40, 4)  # Auckland's day began at 12:00 UTC
    assert (by_session["tokens_in"], by_session["tokens_out"]) == (40, 4)


def _token_client(user) -> Client:
    _token, raw = account_services.access_token_create(
        user=user, tenant=user.memberships.get().tenant, name="bar"
    )
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_it_never_shows_another_workspaces_usage(alice_client, tenant, other_tenant, charlie, rate_card):
    _fund(tenant, rate_card)
    _fund(other_tenant, rate_card)
    with time_machine.travel(NOW, tick=False):
        _use(other_tenant, "theirs", LATE_EVENING, 5000, 500)
        mine = alice_client.get("/api/status/bar/").json()
    assert (mine["tokens_in"], mine["tokens_out"], mine["balance_micros"]) == (0, 0, 10 * DOLLAR)


def test_it_reads_everything_in_one_query(tenant, rate_card, django_assert_num_queries):
    _fund(tenant, rate_card)
    with time_machine.travel(NOW, tick=False):
        _use(tenant, "u1", LATE_EVENING, 10, 1)
        with django_assert_num_queries(1):
            status = status_bar_read(tenant=tenant)
    assert (status.tokens_in, status.tokens_out, status.account.has_entries) == (10, 1, True)


def test_it_reads_an_unused_workspace_without_writing(tenant, django_assert_num_queries):
    with django_assert_num_queries(1):
        status = status_bar_read(tenant=tenant)
    assert (status.balance_micros, status.tokens_in, status.has_tokens) == (0, 0, False)
    assert status.account.pk is None


def test_it_shows_todays_tokens_in_the_top_bar_once_used(alice_client, tenant, rate_card):
    _fund(tenant, rate_card)
    page = alice_client.get("/").content.decode()
    assert 'id="reserve-badge"' in page and 'id="reserve-badge-tokens"' not in page
    _use(tenant, "today", datetime.now(UTC), 12_345, 678)
    page = alice_client.get("/").content.decode()
    assert _badge_tokens(page) == "Tokens today:12.3k in / 678 out"
    assert "Tokens today: 12,345 in, 678 out" in page


def test_it_refreshes_the_badge_with_its_tokens_in_one_query(
    alice_client, tenant, rate_card, django_assert_max_num_queries
):
    _fund(tenant, rate_card)
    _use(tenant, "today", datetime.now(UTC), 1_500, 20)
    with django_assert_max_num_queries(4):  # session, user, membership, account with today's tokens
        response = alice_client.get("/billing/balance/badge/")
    assert _badge_tokens(response.content.decode()) == "Tokens today:1.5k in / 20 out"


def test_it_shortens_token_counts():
    from apps.billing.templatetags.billing import tokens_short

    assert [tokens_short(n) for n in (0, 950, 1000, 12_345, 150_400, 999_950, 4_560_000, 250_000_000)] == [
        "0",
        "950",
        "1k",
        "12.3k",
        "150k",
        "1M",
        "4.6M",
        "250M",
    ]
