import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from apps.worklog.models import Entry
from tests.worklog.conftest import bearer

ENTRY_FIELDS = {
    "id", "occurred_on", "title", "body", "impact", "employer", "project", "skills", "tags",
    "metric_value", "metric_unit", "metric_before", "metric_after", "evidence",
    "confidential", "outcome_pending", "follow_up_on", "created_at", "updated_at",
}  # fmt: skip


def post(client, token, data, path="/api/worklog/entries/"):
    return client.post(path, data=json.dumps(data), content_type="application/json", **bearer(token))


def patch(client, token, entry_id, data):
    return client.patch(
        f"/api/worklog/entries/{entry_id}/",
        data=json.dumps(data),
        content_type="application/json",
        **bearer(token),
    )


def test_it_logs_an_entry_with_a_token_and_returns_exactly_the_documented_fields(client, alice_token, alice):
    response = post(
        client,
        alice_token,
        {"title": "Shipped search", "employer": "Acme", "skills": ["postgres", "Django"], "tags": ["Launch"]},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == ENTRY_FIELDS
    assert body["employer"] == "Acme" and body["project"] is None
    assert body["skills"] == ["Django", "PostgreSQL"] and body["tags"] == ["launch"]
    assert body["occurred_on"] == timezone.localdate().isoformat()
    assert Entry.objects.get().author == alice


def test_it_reads_changes_deletes_and_restores_an_entry(client, alice_token, make_entry):
    entry = make_entry("Draft", employer="Acme", skills=["Go"], impact="kept")
    url = f"/api/worklog/entries/{entry.pk}/"
    assert client.get(url, **bearer(alice_token)).json()["title"] == "Draft"
    changed = patch(client, alice_token, entry.pk, {"title": "Final", "employer": None, "skills": None})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["title"], changed.json()["employer"], changed.json()["skills"]) == (
        "Final",
        None,
        [],
    )
    assert changed.json()["impact"] == "kept"
    assert client.delete(url, **bearer(alice_token)).status_code == 204
    assert client.get(url, **bearer(alice_token)).status_code == 404
    restored = post(client, alice_token, {}, path=f"{url}restore/")
    assert restored.status_code == 200 and restored.json()["title"] == "Final"


def test_it_lists_with_filters_and_pages_with_a_cursor(client, alice_token, make_entry):
    for day in range(1, 6):
        make_entry(f"day {day}", occurred_on=date(2025, 3, day), employer="Acme" if day % 2 else "Globex")
    first = client.get("/api/worklog/entries/?employer=acme&limit=2", **bearer(alice_token)).json()
    assert [item["title"] for item in first["items"]] == ["day 5", "day 3"]
    second = client.get(
        f"/api/worklog/entries/?employer=acme&limit=2&cursor={first['next_cursor']}", **bearer(alice_token)
    ).json()
    assert [item["title"] for item in second["items"]] == ["day 1"] and second["next_cursor"] is None
    ranged = client.get(
        "/api/worklog/entries/?since=2025-03-02&until=2025-03-03", **bearer(alice_token)
    ).json()
    assert [item["title"] for item in ranged["items"]] == ["day 3", "day 2"]


def test_it_searches_through_the_api(client, alice_token, make_entry):
    make_entry("Migrated billing to Stripe", body="Webhooks and retries")
    make_entry("Unrelated")
    found = client.get("/api/worklog/entries/?q=stripe webhooks", **bearer(alice_token)).json()
    assert [item["title"] for item in found["items"]] == ["Migrated billing to Stripe"]


def test_it_never_shows_a_token_another_workspace(
    client, alice_token, charlie_token, make_entry, charlie, other_tenant
):
    mine = make_entry("Alice's secret", employer="Acme", skills=["Go"])
    make_entry("Charlie's", owner=charlie, workspace=other_tenant)
    listed = client.get("/api/worklog/entries/", **bearer(charlie_token)).json()
    assert [item["title"] for item in listed["items"]] == ["Charlie's"]
    for method in ("get", "delete"):
        response = getattr(client, method)(f"/api/worklog/entries/{mine.pk}/", **bearer(charlie_token))
        assert response.status_code == 404
        assert set(response.json()) == {"message", "extra"}
    assert patch(client, charlie_token, mine.pk, {"title": "pwned"}).status_code == 404
    assert (
        Entry.objects.get(pk=mine.pk).title == "Alice's secret"
        and Entry.objects.get(pk=mine.pk).deleted_at is None
    )
    for path in ("employers", "projects", "skills", "tags"):
        assert client.get(f"/api/worklog/{path}/", **bearer(charlie_token)).json() == []


def test_it_answers_unknown_filters_with_a_clear_400(client, alice_token):
    response = client.get("/api/worklog/entries/?emplyer=acme", **bearer(alice_token))
    assert response.status_code == 400
    assert "Unknown filter emplyer" in response.json()["message"]
    assert response.json()["extra"]["unknown"] == ["emplyer"]


@pytest.mark.parametrize(
    "query",
    ["since=2025-13-01", "until=yesterday", "limit=0", "limit=1000", "since=2025-03-02&until=2025-03-01"],
)
def test_it_answers_bad_list_parameters_with_a_4xx(client, alice_token, query):
    response = client.get(f"/api/worklog/entries/?{query}", **bearer(alice_token))
    assert response.status_code in (400, 422)
    assert set(response.json()) == {"message", "extra"}


def test_it_answers_a_bad_cursor_with_a_400(client, alice_token):
    response = client.get("/api/worklog/entries/?cursor=garbage", **bearer(alice_token))
    assert response.status_code == 400 and response.json()["extra"]["field"] == "cursor"


@pytest.mark.parametrize(
    ("data", "status", "where"),
    [
        ({"title": "x" * 201}, 422, "title"),
        ({"title": "ok", "occurred_on": "2025-02-30"}, 422, "occurred_on"),
        ({"title": ""}, 400, "title"),
        ({"title": "ok", "outcome_pending": True}, 400, "follow_up_on"),
        ({"body": "no title"}, 422, "title"),
        ({"title": "ok", "skills": "not a list"}, 422, "skills"),
    ],
)
def test_it_refuses_bad_entries_with_a_clear_4xx_and_saves_nothing(client, alice_token, data, status, where):
    response = post(client, alice_token, data)
    assert response.status_code == status, response.content
    assert set(response.json()) == {"message", "extra"}
    assert where in json.dumps(response.json())
    assert not Entry.objects.exists()


def test_it_lists_employers_projects_and_skills_with_counts(client, alice_token, make_entry):
    make_entry(employer="Acme", project="Atlas", skills=["Go"], occurred_on=date(2025, 5, 1))
    make_entry(employer="Acme", skills=["Go", "SQL"], occurred_on=date(2025, 6, 1))
    auth = bearer(alice_token)
    employers = client.get("/api/worklog/employers/", **auth).json()
    assert [(e["name"], e["entry_count"]) for e in employers] == [("Acme", 2)]
    projects = client.get("/api/worklog/projects/", **auth).json()
    assert [(p["name"], p["employer"], p["entry_count"]) for p in projects] == [("Atlas", "Acme", 1)]
    skills = client.get("/api/worklog/skills/", **auth).json()
    assert [(s["name"], s["entry_count"], s["last_used_on"]) for s in skills] == [
        ("Go", 2, "2025-06-01"),
        ("SQL", 1, "2025-06-01"),
    ]


def test_it_works_with_the_session_too(alice_client, make_entry):
    make_entry("From the browser")
    assert alice_client.get("/api/worklog/entries/").json()["items"][0]["title"] == "From the browser"


def test_it_accepts_the_one_line_curl_from_the_readme(client, alice_token):
    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    line = next(
        line for line in readme.splitlines() if line.startswith("curl ") and "/api/worklog/entries/" in line
    )
    assert "Authorization: Bearer" in line
    payload = line.split("-d '", 1)[1].rsplit("'", 1)[0]
    response = client.post(
        "/api/worklog/entries/", data=payload, content_type="application/json", **bearer(alice_token)
    )
    assert response.status_code == 201 and response.json()["title"] == "Fixed the flaky checkout test"


# ------------------------------------------------------------------------ measured results and evidence


def test_it_keeps_metrics_as_decimal_strings_through_create_read_and_update(client, alice_token):
    created = post(
        client,
        alice_token,
        {
            "title": "Faster checkout",
            "metric_value": "12.5",
            "metric_unit": "% more sign-ups",
            "metric_before": "3.1000",
            "metric_after": "-0.0125",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["metric_value"], body["metric_unit"], body["metric_before"], body["metric_after"]) == (
        "12.5",
        "% more sign-ups",
        "3.1",
        "-0.0125",
    )
    entry = Entry.objects.get()
    assert entry.metric_value == Decimal("12.5") and entry.metric_after == Decimal("-0.0125")
    changed = patch(
        client, alice_token, entry.pk, {"metric_value": "99999999999.9999", "metric_before": None}
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["metric_value"] == "99999999999.9999" and changed.json()["metric_before"] is None
    assert changed.json()["metric_after"] == "-0.0125"  # untouched
    cleared = patch(client, alice_token, entry.pk, {"metric_unit": None})
    assert cleared.json()["metric_unit"] == ""


@pytest.mark.parametrize(
    "value",
    [12.5, 12, "1.23456", "1e3", "abc", "", " 1", "1.", "123456789012", "NaN", "12.5\n", "١٢"],
)
def test_it_refuses_a_metric_that_is_not_a_decimal_string_with_up_to_4_decimals(client, alice_token, value):
    response = post(client, alice_token, {"title": "ok", "metric_value": value})
    assert response.status_code == 422, response.content
    assert "metric_value" in response.json()["message"]
    assert not Entry.objects.exists()


def test_it_lists_evidence_with_kind_title_url_size_and_type(client, alice_token, alice, make_entry, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.worklog import services
    from tests.worklog.conftest import PDF_BYTES

    entry = make_entry("With proof", links=["https://github.com/acme/app/pull/42"])
    services.evidence_add_file(
        entry=entry, actor=alice, upload=SimpleUploadedFile("results.pdf", PDF_BYTES, "application/pdf")
    )
    for response in (
        client.get(f"/api/worklog/entries/{entry.pk}/", **bearer(alice_token)),
        client.get("/api/worklog/entries/", **bearer(alice_token)),
    ):
        body = response.json()
        evidence = (body["items"][0] if "items" in body else body)["evidence"]
        link, upload = evidence
        assert set(link) == {"id", "kind", "title", "url", "size_bytes", "content_type", "created_at"}
        assert (link["kind"], link["url"], link["size_bytes"], link["content_type"]) == (
            "link",
            "https://github.com/acme/app/pull/42",
            None,
            None,
        )
        assert upload["kind"] == "file" and upload["title"] == "results.pdf"
        assert upload["url"] == f"/log/evidence/{upload['id']}/"
        assert (upload["size_bytes"], upload["content_type"]) == (len(PDF_BYTES), "application/pdf")
    assert client.get(upload["url"], **bearer(alice_token)).status_code in (200, 302)


def _fill(make_entry, count: int):
    for number in range(count):
        make_entry(
            f"Entry {number}",
            employer="Acme",
            project="Atlas",
            skills=["Go", "SQL"],
            tags=["ops"],
            links=[f"https://example.com/{number}", f"https://example.com/{number}/b"],
        )


@pytest.mark.parametrize("count", [2, 20])
def test_it_lists_a_page_in_a_constant_number_of_queries(
    client, alice_token, make_entry, count, django_assert_max_num_queries
):
    _fill(make_entry, count)
    # token, token last-used, page, skills, tags, evidence: the same six for any page size
    with django_assert_max_num_queries(6):
        response = client.get("/api/worklog/entries/?limit=50", **bearer(alice_token))
    assert len(response.json()["items"]) == count
    assert all(len(item["evidence"]) == 2 for item in response.json()["items"])


# ------------------------------------------------------------------------------ cursors and calendars


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!!",
        "%00",
        "e30",  # {}
        "W10",  # []
        "eyJvIjotMX0",  # {"o": -1}
        "eyJvIjo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5fQ",  # {"o": 99999999999999999999999}
        "eyJvIjoiMTIifQ",  # {"o": "12"}
        "eyJvIjp0cnVlfQ",  # {"o": true}
        "eyJkIjoiMjAyNS0wMi0zMCIsImkiOjF9",  # {"d": "2025-02-30", "i": 1}
        "eyJkIjoiMjAyNS0wMi0wMSIsImkiOjk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OX0",  # i: 10**23
        "eyJkIjoiMjAyNS0wMi0wMSIsImkiOi01fQ",  # i: -5
        "eyJkIjoyMDI1LCJpIjoxfQ",  # {"d": 2025, "i": 1}
        "x" * 201,
    ],
)
@pytest.mark.parametrize("search", ["", "&q=shipped"])
def test_it_answers_any_cursor_we_did_not_give_out_with_a_400(
    client, alice_token, make_entry, cursor, search
):
    make_entry("Shipped it")
    response = client.get(f"/api/worklog/entries/?cursor={cursor}{search}", **bearer(alice_token))
    assert response.status_code in (400, 422), response.content
    assert set(response.json()) == {"message", "extra"}


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Etc/GMT+12"])
@pytest.mark.parametrize(
    "query",
    [
        "since=0001-01-01",
        "until=9999-12-31",
        "since=0001-01-01&until=9999-12-31",
        "since=9999-12-31&until=9999-12-31",
        "until=0001-01-01",
    ],
)
def test_it_filters_at_the_ends_of_the_calendar_in_any_time_zone(
    client, alice, alice_token, make_entry, zone, query
):
    alice.time_zone = zone
    alice.save(update_fields=["time_zone"])
    make_entry("Shipped it", occurred_on=date(2025, 3, 1))
    response = client.get(f"/api/worklog/entries/?{query}", **bearer(alice_token))
    assert response.status_code == 200, response.content
    expected = [] if query.startswith("since=9999") or query == "until=0001-01-01" else ["Shipped it"]
    assert [item["title"] for item in response.json()["items"]] == expected
