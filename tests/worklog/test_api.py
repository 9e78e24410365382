import json
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from apps.worklog.models import Entry
from tests.worklog.conftest import bearer

ENTRY_FIELDS = {
    "id", "occurred_on", "title", "body", "impact", "employer", "project", "skills", "tags",
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
