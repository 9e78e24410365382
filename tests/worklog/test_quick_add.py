import json
from datetime import UTC, date, datetime

import time_machine

from apps.worklog.models import Entry
from tests.worklog.conftest import htmx


def test_it_opens_with_today_and_the_last_employer_and_project(alice_client, alice, make_entry):
    make_entry(employer="Acme", project="Atlas", occurred_on=date(2024, 5, 1))
    alice.time_zone = "America/Los_Angeles"
    alice.save()
    with time_machine.travel(datetime(2025, 7, 1, 3, 0, tzinfo=UTC)):  # still June 30 in Los Angeles
        response = alice_client.get("/log/quick-add/", **htmx())
    form = response.content.decode()
    assert response.status_code == 200 and 'id="quick-add-form"' in form
    assert 'value="2025-06-30"' in form
    assert 'name="employer" value="Acme"' in form and 'name="project" value="Atlas"' in form
    assert '<option value="Acme">' in form


def test_it_saves_and_tells_the_page_to_show_the_entry(alice_client):
    response = alice_client.post(
        "/log/quick-add/",
        {
            "title": "Paired on the outage fix",
            "occurred_on": "2025-03-04",
            "skills": "python, Incident response,",
        },
        **htmx(),
    )
    assert response.status_code == 200
    entry = Entry.objects.get()
    assert sorted(entry.skills.values_list("name", flat=True)) == ["Incident response", "Python"]
    event = json.loads(response["HX-Trigger"])["worklog:entry-saved"]
    assert event == {"id": entry.pk, "url": f"/log/entries/{entry.pk}/"}
    body = response.content.decode()
    assert 'hx-swap-oob="beforeend:#toasts"' in body and "Logged “Paired on the outage fix”." in body
    assert 'value="Paired on the outage fix"' not in body  # a fresh form, ready for the next one


def test_it_keeps_everything_typed_when_the_form_is_invalid(alice_client):
    response = alice_client.post(
        "/log/quick-add/",
        {
            "title": "",
            "occurred_on": "2025-03-04",
            "body": "Wrote the *runbook*",
            "employer": "Acme",
            "skills": "Go, SQL",
            "tags": "ops",
            "outcome_pending": "on",
        },
        **htmx(),
    )
    assert response.status_code == 422
    form = response.content.decode()
    assert "This field is required." in form
    assert "Wrote the *runbook*" in form and 'value="Acme"' in form and 'value="Go, SQL"' in form
    assert 'value="ops"' in form and "checked" in form
    assert not Entry.objects.exists()


def test_it_shows_service_errors_on_the_field(alice_client):
    response = alice_client.post(
        "/log/quick-add/",
        {"title": "Waiting on results", "occurred_on": "2025-03-04", "outcome_pending": "on"},
        **htmx(),
    )
    assert response.status_code == 422
    assert "pick a date to come back and add it" in response.content.decode()
    assert not Entry.objects.exists()


def test_it_falls_back_to_the_full_form_without_htmx(alice_client):
    assert alice_client.get("/log/quick-add/").url == "/log/new/"
    response = alice_client.post("/log/quick-add/", {"title": "No JavaScript", "occurred_on": "2025-03-04"})
    assert response.status_code == 302 and Entry.objects.get().title == "No JavaScript"


def test_it_is_on_every_app_page(alice_client):
    for url in ("/", "/profile/", "/log/skills/"):
        page = alice_client.get(url).content.decode()
        assert 'id="quick-add-modal"' in page and "data-quick-add" in page and "js/worklog.js" in page


def test_it_shows_the_prefilled_employer_and_project_as_removable_chips(alice_client, make_entry):
    make_entry(employer="Acme", project="Atlas", occurred_on=date(2024, 5, 1))
    form = alice_client.get("/log/quick-add/", **htmx()).content.decode()
    strip = form[form.index("data-filed-under") : form.index("</div>", form.index("data-filed-under"))]
    assert "Filed under" in strip and "(as your last entry)" in strip
    assert "<span data-filed-value>Acme</span>" in strip and "<span data-filed-value>Atlas</span>" in strip
    assert 'data-filed-remove="employer"' in strip and 'aria-label="Remove the project"' in strip
    assert "data-filed-none hidden" in strip  # "No employer or project" only shows once both are removed
    # The fields themselves stay editable, with the same values.
    assert 'name="employer" value="Acme"' in form and 'name="project" value="Atlas"' in form


def test_it_says_when_nothing_is_prefilled(alice_client):
    form = alice_client.get("/log/quick-add/", **htmx()).content.decode()
    strip = form[form.index("data-filed-under") : form.index("</div>", form.index("data-filed-under"))]
    assert 'data-filed-chip="employer" hidden' in strip and 'data-filed-chip="project" hidden' in strip
    assert "No employer or project" in strip and "as your last entry" not in strip


def test_it_files_under_no_project_when_the_project_was_removed(alice_client, make_entry):
    make_entry(employer="Acme", project="Atlas", occurred_on=date(2024, 5, 1))
    response = alice_client.post(
        "/log/quick-add/",
        {"title": "Not for Atlas", "occurred_on": "2025-03-04", "employer": "Acme", "project": ""},
        **htmx(),
    )
    assert response.status_code == 200
    entry = Entry.objects.get(title="Not for Atlas")
    assert entry.employer.name == "Acme" and entry.project is None
    # The next form starts from this entry: Acme, and no project.
    body = response.content.decode()
    assert "<span data-filed-value>Acme</span>" in body and 'data-filed-chip="project" hidden' in body
