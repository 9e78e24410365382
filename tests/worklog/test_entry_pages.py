from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.worklog.models import Entry, Evidence
from tests.worklog.conftest import PDF_BYTES


def test_it_creates_an_entry_with_files_and_links_from_the_full_form(alice_client, media):
    response = alice_client.post(
        "/log/new/",
        {
            "title": "Launched pricing page",
            "occurred_on": "2025-04-02",
            "impact": "Trials up 9%",
            "metric_value": "9",
            "metric_unit": "% more trials",
            "metric_before": "3.1",
            "metric_after": "3.4",
            "links": "https://example.com/pr/1\n\nhttps://example.com/doc",
            "files": [
                SimpleUploadedFile("spec.pdf", PDF_BYTES, content_type="application/pdf"),
                SimpleUploadedFile("notes.md", b"# Notes\nall good", content_type="text/markdown"),
            ],
        },
    )
    entry = Entry.objects.get()
    assert response.url == f"/log/entries/{entry.pk}/"
    assert entry.metric_value == 9 and entry.metric_unit == "% more trials"
    kinds = sorted(Evidence.objects.values_list("kind", "original_name", "url"))
    assert kinds == [
        ("file", "notes.md", ""),
        ("file", "spec.pdf", ""),
        ("link", "", "https://example.com/doc"),
        ("link", "", "https://example.com/pr/1"),
    ]


def test_it_keeps_typed_fields_and_saves_nothing_when_a_file_is_refused(alice_client, media):
    response = alice_client.post(
        "/log/new/",
        {
            "title": "Keep me",
            "occurred_on": "2025-04-02",
            "body": "All the details",
            "files": [
                SimpleUploadedFile("ok.pdf", PDF_BYTES, content_type="application/pdf"),
                SimpleUploadedFile("tool.exe", b"MZ\x90\x00binary", content_type="application/x-msdownload"),
            ],
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "“tool.exe” is not a type we accept" in page
    assert 'value="Keep me"' in page and "All the details" in page and "choose your files again" in page
    assert not Entry.objects.exists() and not Evidence.objects.exists()
    assert not list(media.rglob("*.*")) and not [path for path in media.rglob("*") if path.is_file()]


def test_it_edits_an_entry(alice_client, make_entry):
    entry = make_entry("Typo tilte", skills=["Go"], employer="Acme")
    form = alice_client.get(f"/log/entries/{entry.pk}/edit/").content.decode()
    assert 'value="Typo tilte"' in form and 'value="Go"' in form
    response = alice_client.post(
        f"/log/entries/{entry.pk}/edit/",
        {"title": "Typo title", "occurred_on": "2025-04-03", "employer": "Acme", "skills": "Go, Rust"},
    )
    assert response.url == f"/log/entries/{entry.pk}/"
    entry.refresh_from_db()
    assert entry.title == "Typo title" and entry.occurred_on == date(2025, 4, 3)
    assert sorted(entry.skills.values_list("name", flat=True)) == ["Go", "Rust"]


def test_it_keeps_the_edit_form_when_a_field_is_too_long(alice_client, make_entry):
    entry = make_entry("Short")
    response = alice_client.post(
        f"/log/entries/{entry.pk}/edit/", {"title": "x" * 250, "occurred_on": "2025-04-03", "impact": "kept"}
    )
    assert response.status_code == 400
    assert "at most 200 characters" in response.content.decode() and "kept" in response.content.decode()
    assert Entry.objects.get().title == "Short"


def test_it_renders_the_body_as_sanitised_markdown(alice_client, make_entry):
    entry = make_entry(
        "Wrote docs",
        body="**Bold** move\n\n<script>alert('x')</script>\n\n[bad](javascript:alert(1)) [good](https://example.com)",
        impact="Fewer questions",
        metric_value="12.5000",
        metric_unit="% fewer tickets",
        confidential=True,
        outcome_pending=True,
        occurred_on=date(2025, 8, 1),
        follow_up_on=date(2025, 9, 1),
        skills=["Technical writing"],
        tags=["docs"],
    )
    page = alice_client.get(f"/log/entries/{entry.pk}/").content.decode()
    assert "<strong>Bold</strong>" in page
    assert "alert('x')" not in page and "javascript:alert" not in page
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">good</a>' in page
    assert "12.5" in page and "12.5000" not in page and "% fewer tickets" in page
    assert "Confidential." in page and "Sep 1, 2025" in page
    assert "?skill=Technical%20writing" in page and "#docs" in page


def test_it_shows_recent_entries_on_the_dashboard(alice_client, make_entry):
    assert "Start your work log" in alice_client.get("/").content.decode()
    make_entry("Latest thing")
    assert "Latest thing" in alice_client.get("/").content.decode()


def test_it_lets_a_second_member_of_the_workspace_see_the_entry(client, bob, make_entry):
    entry = make_entry("Team work")
    client.force_login(bob)
    assert client.get(f"/log/entries/{entry.pk}/").status_code == 200
