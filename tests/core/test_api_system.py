import json
import logging

import pytest
from django_q.conf import Conf

from apps.core.events import emit_event
from apps.core.models import Event


def test_it_answers_healthz_anonymously(client, db):
    response = client.get("/api/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_it_reports_ready_when_database_and_queue_answer(client, db):
    response = client.get("/api/readyz/")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "queue": "ok"}


def test_it_checks_a_redis_broker_for_real(client, db, monkeypatch):
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:6379/15")
    response = client.get("/api/readyz/")
    assert response.status_code == 200, response.json()


def test_it_reports_not_ready_when_the_queue_is_unreachable(client, db, monkeypatch):
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = client.get("/api/readyz/")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["queue"].startswith("error")


def test_it_answers_me_with_401_json_when_signed_out(client, db):
    response = client.get("/api/me/")
    assert response.status_code == 401
    assert set(response.json()) == {"message", "extra"}


def test_it_describes_the_signed_in_user(alice_client, alice):
    response = alice_client.get("/api/me/")
    assert response.status_code == 200
    assert response.json() == {
        "email": "alice@example.com",
        "is_staff": False,
        "tenant": {"slug": "alice", "name": "Alice's workspace"},
    }


def test_it_serves_the_openapi_schema(client, db):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert "/api/me/" in response.json()["paths"]


def test_it_echoes_a_request_id(client, db):
    response = client.get("/api/healthz/", HTTP_X_REQUEST_ID="abc12345-req")
    assert response["X-Request-ID"] == "abc12345-req"
    generated = client.get("/api/healthz/", HTTP_X_REQUEST_ID="bad id!")["X-Request-ID"]
    assert generated != "bad id!" and len(generated) == 32


def test_it_sends_a_content_security_policy(client, db):
    response = client.get("/accounts/login/")
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_it_emits_an_event_row_and_a_json_log_line(alice, tenant, caplog):
    with caplog.at_level(logging.INFO, logger="afterresume.events"):
        event = emit_event("thing.happened", tenant=tenant, actor=alice, amount=3)
    assert Event.objects.get(pk=event.pk).data == {"amount": 3}
    record = next(r for r in caplog.records if r.getMessage() == "thing.happened")
    from apps.core.logging import JsonFormatter

    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "thing.happened" and line["tenant"] == "alice" and line["data"] == {"amount": 3}


@pytest.mark.parametrize("path", ["/no-such-page/", "/staff/invites/999999/"])
def test_it_shows_a_styled_404(alice_client, path):
    response = alice_client.get(path)
    assert response.status_code == 404
    assert b"AfterResume" in response.content


def test_it_answers_404_json_to_someone_without_a_workspace(client, db):
    from tests.conftest import make_user

    client.force_login(make_user("nomad@example.com"))
    for path in ("/api/billing/reserve/balance/", "/api/worklog/entries/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"message": "You are not in a workspace.", "extra": {}}
