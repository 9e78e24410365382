"""The entry-enhancement API, exactly as the contract in DESIGN.md has it, and 404s for outsiders."""

import json

import pytest

from apps.accounts import services as account_services
from apps.assist.models import Suggestion
from apps.core.models import Job
from tests.assist.conftest import DEPLOY_ENTRY, model_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_token(alice, tenant) -> str:
    _token, raw = account_services.access_token_create(user=alice, tenant=tenant, name="cli")
    return raw


@pytest.fixture
def charlie_token(charlie, other_tenant) -> str:
    _token, raw = account_services.access_token_create(user=charlie, tenant=other_tenant, name="cli")
    return raw


def call(client, method, path, token, body=None):
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(path, **kwargs)


@pytest.fixture
def improved(client, alice_token, make_entry, sync_jobs, django_capture_on_commit_callbacks):
    """An entry improved through the API, its job run: (entry, response, suggestion)."""
    entry = make_entry(**DEPLOY_ENTRY)
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, "post", f"/api/worklog/entries/{entry.pk}/improve/", alice_token)
    return entry, response, Suggestion.objects.get(entry=entry)


def test_it_starts_an_improve_job_and_answers_202(improved, client, alice_token):
    _entry, response, suggestion = improved
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"job_id", "estimate_micros"} and body["estimate_micros"] == 0
    job = call(client, "get", f"/api/jobs/{body['job_id']}/", alice_token).json()
    assert job["status"] == "succeeded" and job["result"]["suggestion_ids"] == [suggestion.pk]


def test_it_shows_a_suggestion_in_the_contract_s_shape(improved, client, alice_token):
    entry, _response, suggestion = improved
    response = call(client, "get", f"/api/worklog/suggestions/{suggestion.pk}/", alice_token)
    assert response.status_code == 200
    body = response.json()
    assert {"id", "entry_id", "fields", "skills", "status"} <= set(body)
    assert body["id"] == suggestion.pk and body["entry_id"] == entry.pk and body["status"] == "pending"
    assert body["skills"] == ["Python", "Kubernetes"] and body["drafted_without_ai"] is True
    title = body["fields"][0]
    assert set(title) == {"name", "original", "proposed", "flags"}
    assert title == {
        "name": "title",
        "original": "I migrated the deploy scripts",
        "proposed": "Migrated the deploy scripts",
        "flags": [],
    }


def test_it_accepts_the_named_fields(improved, client, alice_token):
    entry, _response, suggestion = improved
    response = call(
        client,
        "post",
        f"/api/worklog/suggestions/{suggestion.pk}/accept/",
        alice_token,
        {"fields": ["title"]},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "partially_accepted"
    body = call(client, "get", f"/api/worklog/entries/{entry.pk}/", alice_token).json()
    assert body["title"] == "Migrated the deploy scripts" and body["impact"] == ""
    assert sorted(body["skills"]) == ["Kubernetes", "Python"]  # skills default to all proposed


def test_it_accepts_every_unflagged_field_by_default(improved, client, alice_token):
    entry, _response, suggestion = improved
    response = call(client, "post", f"/api/worklog/suggestions/{suggestion.pk}/accept/", alice_token, {})
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    entry.refresh_from_db()
    assert entry.impact == "Deploy time went from 40 to 12 minutes."


def test_it_rejects_a_suggestion(improved, client, alice_token):
    _entry, _response, suggestion = improved
    response = call(client, "post", f"/api/worklog/suggestions/{suggestion.pk}/reject/", alice_token)
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    again = call(client, "post", f"/api/worklog/suggestions/{suggestion.pk}/accept/", alice_token, {})
    assert again.status_code == 409
    assert set(again.json()) == {"message", "extra"} and "already decided" in again.json()["message"]


def test_it_refuses_a_flagged_field_with_what_is_flagged(
    client,
    alice_token,
    make_entry,
    external_model,
    fund,
    tenant,
    sync_jobs,
    django_capture_on_commit_callbacks,
):
    fund(tenant, 5_000_000)
    external_model.answer(model_draft(title="Cut deploy time at Globex"))
    entry = make_entry(**DEPLOY_ENTRY)
    with django_capture_on_commit_callbacks(execute=True):
        started = call(client, "post", f"/api/worklog/entries/{entry.pk}/improve/", alice_token)
    assert started.json()["estimate_micros"] > 0
    suggestion = Suggestion.objects.get()
    shown = call(client, "get", f"/api/worklog/suggestions/{suggestion.pk}/", alice_token).json()
    assert shown["fields"][0]["flags"] == [{"text": "Globex", "reason": "not in your entry"}]
    url = f"/api/worklog/suggestions/{suggestion.pk}/accept/"
    refused = call(client, "post", url, alice_token, {"fields": ["title"]})
    assert refused.status_code == 400
    assert refused.json()["extra"]["flags"] == [{"text": "Globex", "reason": "not in your entry"}]
    confirmed = call(client, "post", url, alice_token, {"fields": ["title"], "confirm_flagged": ["title"]})
    assert confirmed.status_code == 200
    entry.refresh_from_db()
    assert entry.title == "Cut deploy time at Globex"


def test_it_answers_402_when_the_reserve_cannot_pay(client, alice_token, make_entry, external_model):
    entry = make_entry(**DEPLOY_ENTRY)
    response = call(client, "post", f"/api/worklog/entries/{entry.pk}/improve/", alice_token)
    assert response.status_code == 402
    body = response.json()
    assert set(body) == {"message", "extra"}
    assert body["extra"]["needed_micros"] > 0 and body["extra"]["available_micros"] == 0
    assert not Job.objects.exists() and external_model.chat_requests == []


def test_it_answers_404_for_another_workspace_s_entry_and_suggestion(improved, client, charlie_token):
    entry, _response, suggestion = improved
    for method, path, body in [
        ("post", f"/api/worklog/entries/{entry.pk}/improve/", None),
        ("get", f"/api/worklog/suggestions/{suggestion.pk}/", None),
        ("post", f"/api/worklog/suggestions/{suggestion.pk}/accept/", {"fields": ["title"]}),
        ("post", f"/api/worklog/suggestions/{suggestion.pk}/reject/", None),
    ]:
        response = call(client, method, path, charlie_token, body)
        assert response.status_code == 404, (method, path, response.status_code)
        assert set(response.json()) == {"message", "extra"}
    suggestion.refresh_from_db()
    assert suggestion.status == "pending" and Job.objects.filter(tenant__slug="charlie").count() == 0


def test_it_answers_401_without_a_token(client, improved):
    entry, _response, suggestion = improved
    assert client.post(f"/api/worklog/entries/{entry.pk}/improve/").status_code == 401
    assert client.get(f"/api/worklog/suggestions/{suggestion.pk}/").status_code == 401


def test_it_documents_the_paths(client, db):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/worklog/entries/{id}/improve/",
        "/api/worklog/suggestions/{id}/",
        "/api/worklog/suggestions/{id}/accept/",
        "/api/worklog/suggestions/{id}/reject/",
    ):
        assert path in paths
    assert "202" in paths["/api/worklog/entries/{id}/improve/"]["post"]["responses"]


def test_it_accepts_without_a_body_and_refuses_a_bad_one(improved, client, alice_token):
    _entry, _response, suggestion = improved
    url = f"/api/worklog/suggestions/{suggestion.pk}/accept/"
    bad = call(client, "post", url, alice_token, {"fields": "title"})
    assert bad.status_code == 422 and set(bad.json()) == {"message", "extra"}
    not_json = client.post(
        url, data="fields=title", content_type="text/plain", HTTP_AUTHORIZATION=f"Bearer {alice_token}"
    )
    assert not_json.status_code == 415
    response = client.generic("POST", url, data=b"", HTTP_AUTHORIZATION=f"Bearer {alice_token}")  # no body
    assert response.status_code == 200 and response.json()["status"] == "accepted"
