"""Share links: shareable reports only; unguessable; no sign-in; never indexed; read-only without links to
entries; a view count; an optional expiry; revoking makes the link a 404."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.reporting.models import ReportShare

pytestmark = pytest.mark.usefixtures("rates")


@pytest.fixture
def shareable(alice_client, log, write_report):
    _response, report = write_report(
        {"kind": "brag_document", "audience": "shareable"}, as_client=alice_client
    )
    report.refresh_from_db()
    return report


def _share(client, report, **body):
    return client.post(f"/api/reports/{report.pk}/share/", body, content_type="application/json")


def test_it_opens_a_shareable_report_signed_out_read_only_and_unindexed(alice_client, client, shareable, log):
    response = _share(alice_client, shareable)
    assert response.status_code == 200 and set(response.json()) == {"url"}
    url = response.json()["url"]
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert url.startswith("http://testserver/r/") and len(token) >= 43  # 32 random bytes
    assert _share(alice_client, shareable).json()["url"] == url  # the open link, not another
    alice_client.logout()
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert page["X-Robots-Tag"].startswith("noindex") and '<meta name="robots" content="noindex' in html
    assert "Cut deploy time from 40 to 8 minutes" in html
    assert "/log/entries/" not in html and "<form" not in html and 'href="/reports/' not in html
    assert f'<span class="ar-cite ar-cite-plain">E{log["deploys"].pk}</span>' in html
    client.get(url)
    assert ReportShare.objects.get(token=token).view_count == 2


def test_it_revokes_a_link_for_good(alice_client, client, shareable):
    url = _share(alice_client, shareable).json()["url"]
    assert alice_client.delete(f"/api/reports/{shareable.pk}/share/").status_code == 204
    assert client.get(url).status_code == 404
    new_url = _share(alice_client, shareable).json()["url"]
    assert new_url != url and client.get(url).status_code == 404 and client.get(new_url).status_code == 200


def test_it_ends_a_link_at_its_expiry(alice_client, client, shareable):
    url = _share(alice_client, shareable, expires_in_days=7).json()["url"]
    assert client.get(url).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        assert client.get(url).status_code == 404
    assert _share(alice_client, shareable, expires_in_days=0).status_code == 400


def test_it_refuses_to_share_a_private_report(alice_client, log, write_report):
    _response, report = write_report({"kind": "brag_document"}, as_client=alice_client)
    response = _share(alice_client, report)
    assert response.status_code == 400 and "Only shareable reports" in response.json()["message"]
    assert not ReportShare.objects.exists()


def test_it_shares_and_revokes_from_the_page(alice_client, shareable):
    detail = reverse("reporting_detail", args=[shareable.pk])
    assert (
        alice_client.post(
            reverse("reporting_share", args=[shareable.pk]), {"expires_in_days": "30"}
        ).status_code
        == 302
    )
    share = ReportShare.objects.get()
    assert share.expires_at and share.expires_at - timezone.now() > timedelta(days=29)
    assert reverse("reporting_shared", args=[share.token]) in alice_client.get(detail).content.decode()
    alice_client.post(reverse("reporting_share_revoke", args=[shareable.pk]))
    share.refresh_from_db()
    assert share.revoked_at is not None
    assert "Create link" in alice_client.get(detail).content.decode()


def test_it_answers_404_to_an_unknown_token(client, db):
    assert client.get("/r/not-a-real-token/").status_code == 404
