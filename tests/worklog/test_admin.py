"""Staff run the Django admin, but people's entries are theirs: the admin shows metadata only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.worklog import services
from apps.worklog.models import Entry, Evidence
from tests.worklog.conftest import PDF_BYTES

SECRETS = [
    "Negotiated the Acme merger",
    "Only the board knows about this",
    "Saved 4 million in layoffs",
    "acme-merger-terms.pdf",
    "https://wiki.example.com/secret-plan",
    "Merger wiki page",
    "Acme Holdings",
    "Project Falcon",
    "Negotiation",
    "m-and-a",
]


@pytest.fixture
def superuser_client(client, staff):
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    return client


@pytest.fixture
def secret_entry(make_entry, alice, media) -> Entry:
    entry = make_entry(
        title=SECRETS[0],
        body=SECRETS[1],
        impact=SECRETS[2],
        employer="Acme Holdings",
        project="Project Falcon",
        skills=["Negotiation"],
        tags=["m-and-a"],
        confidential=True,
    )
    services.evidence_add_files(
        entry=entry,
        actor=alice,
        uploads=[SimpleUploadedFile(SECRETS[3], PDF_BYTES, content_type="application/pdf")],
    )
    services.evidence_add_link(entry=entry, actor=alice, url=SECRETS[4], title=SECRETS[5])
    return entry


def _admin_pages(client, entry: Entry) -> dict[str, str]:
    evidence = list(Evidence.objects.filter(entry=entry).order_by("id"))
    urls = [
        "/admin/",
        "/admin/worklog/",
        "/admin/worklog/entry/",
        f"/admin/worklog/entry/?id={entry.pk}",
        "/admin/worklog/entry/?q=alice",
        f"/admin/worklog/entry/{entry.pk}/change/",
        f"/admin/worklog/entry/{entry.pk}/history/",
        f"/admin/worklog/entry/{entry.pk}/delete/",
        "/admin/worklog/evidence/",
        *(f"/admin/worklog/evidence/{item.pk}/change/" for item in evidence),
        f"/admin/accounts/tenant/{entry.tenant_id}/delete/",
    ]
    pages = {}
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code == 200, (url, response.status_code)
        pages[url] = response.content.decode()
    return pages


def test_it_shows_staff_no_entry_or_evidence_text(superuser_client, secret_entry):
    for url, page in _admin_pages(superuser_client, secret_entry).items():
        leaked = [text for text in SECRETS if text.lower() in page.lower()]
        assert leaked == [], url


def test_it_lists_entries_by_their_metadata(superuser_client, secret_entry, make_entry):
    make_entry(title="Another one")
    page = superuser_client.get(f"/admin/worklog/entry/?id={secret_entry.pk}").content.decode()
    assert "1 entry" in page or "1 result" in page
    assert f'<td class="field-id">{secret_entry.pk}</td>' in page.replace("<th", "<td").replace(
        "</th>", "</td>"
    )
    assert '<td class="field-evidence_items">2</td>' in page
    assert '<td class="field-evidence_size">' in page
    assert '<td class="field-skill_count">1</td>' in page
    assert '<td class="field-tag_count">1</td>' in page
    assert "Alice&#x27;s workspace" in page


def test_it_opens_an_entry_admin_url_as_the_list_filtered_to_it(superuser_client, secret_entry):
    response = superuser_client.get(f"/admin/worklog/entry/{secret_entry.pk}/change/")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/worklog/entry/?id={secret_entry.pk}"


def test_it_lets_nobody_add_change_or_delete_entries_in_the_admin(superuser_client, secret_entry):
    assert superuser_client.get("/admin/worklog/entry/add/", follow=True).status_code in (200, 404)
    assert (
        superuser_client.post(f"/admin/worklog/entry/{secret_entry.pk}/change/", {"title": "x"}).status_code
        == 302
    )
    secret_entry.refresh_from_db()
    assert secret_entry.title == SECRETS[0]
    response = superuser_client.post(
        "/admin/worklog/entry/", {"action": "delete_selected", "_selected_action": [secret_entry.pk]}
    )
    assert response.status_code in (200, 302)
    assert Entry.objects.filter(pk=secret_entry.pk).exists()


def test_it_lists_evidence_by_kind_type_and_size(superuser_client, secret_entry):
    page = superuser_client.get("/admin/worklog/evidence/").content.decode()
    assert "application/pdf" in page
    assert f'?id={secret_entry.pk}">{secret_entry.pk}</a>' in page
    assert f'<td class="field-size_bytes">{len(PDF_BYTES)}</td>' in page


def test_it_names_entries_and_evidence_in_good_english(client, staff):
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    page = client.get("/admin/").content.decode()
    assert ">Entries<" in page and ">Evidence<" in page
    assert "Entrys" not in page and "Evidences" not in page
