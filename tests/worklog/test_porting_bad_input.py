"""Never a 500 on a bad import file: characters no database can store are row errors (so "ready" never
fails at commit), deep nesting and unreadable numbers are clear rejections, and the one date rule of
entries applies to imported rows in the importing person's time zone. Run on SQLite and PostgreSQL."""

import json
from datetime import timedelta

import pytest

from apps.worklog import services
from apps.worklog.models import Employer, Entry
from apps.worklog.porting.importers import import_commit
from tests.worklog.porting_helpers import (  # noqa: F401 - fixtures
    confirm_import_fixture,
    import_uploads,
    make_zip,
    media,
    sync_jobs,
    upload_import_fixture,
)

pytestmark = pytest.mark.usefixtures("media", "sync_jobs")

CANNOT_STORE = "contains a character that cannot be stored"
MANIFEST = json.dumps({"format": "afterresume.worklog", "version": 1})


def _problems(page) -> list[tuple[int, str, str]]:
    return [(e.row, e.field, e.message) for e in page.context["preview"].errors]


# ------------------------------------------------------------------------------ unstorable characters


def test_it_reports_a_nul_byte_in_a_csv_cell_as_a_row_error(
    alice_client, tenant, upload_import, confirm_import
):
    content = (
        "occurred_on,title,body,employer\n2025-01-05,Fine row,,Acme\n2025-01-06,Bad\x00title,,Ac\x00me\n"
    )
    page = upload_import(alice_client, content, fmt="csv", name="log.csv")

    assert page.status_code == 400
    problems = _problems(page)
    assert [(row, field) for row, field, _message in problems] == [(3, "title"), (3, "employer")]
    assert all(CANNOT_STORE in message for _row, _field, message in problems)
    assert "Ready" in page.content.decode()  # the good row is still shown as ready
    # Skipping the bad row imports the good one; PostgreSQL never sees the NUL.
    response = confirm_import(alice_client, page, mode="skip")
    assert response.status_code == 302
    assert list(Entry.objects.filter(tenant=tenant).values_list("title", flat=True)) == ["Fine row"]
    assert list(Employer.objects.filter(tenant=tenant).values_list("name", flat=True)) == ["Acme"]


def test_it_reports_lone_surrogates_in_jrnl_text_as_row_errors(alice_client, upload_import):
    # "\ud800" is valid JSON but half a character: no UTF-8 text (so no database) can hold it.
    content = (
        '{"entries": ['
        '{"date": "2024-06-03", "title": "Paged \\ud800 twice", "body": "", "tags": []},'
        '{"date": "2024-06-04", "title": "Fine", "body": "body \\udfff", "tags": ["@ok", "@bad\\ud83d"]},'
        '{"date": "2024-06-05", "title": "Fine too", "body": "", "tags": []}'
        "]}"
    )
    page = upload_import(alice_client, content, fmt="jrnl", name="journal.json")

    assert page.status_code == 400
    assert [(row, field) for row, field, _m in _problems(page)] == [(1, "title"), (2, "body"), (2, "tags")]
    assert CANNOT_STORE in page.content.decode()
    assert "\ud800".encode("utf-8", "surrogatepass") not in page.content  # the page itself renders


def test_it_reports_unstorable_names_inside_a_workspace_export(client, charlie, upload_import):
    entries = {
        "entries": [{"occurred_on": "2024-05-02", "title": "Nul\u0000 title"}],
        "employers": [{"name": "Acme\u0000"}],
        "tags": [{"name": "half\ud800"}],
    }
    archive = make_zip({"manifest.json": MANIFEST, "entries.json": json.dumps(entries)})
    client.force_login(charlie)
    page = upload_import(client, archive, fmt="zip", name="export.zip")

    assert page.status_code == 200 and not page.context["token"]
    assert [(row, field) for row, field, _m in _problems(page)] == [
        (0, "employers"),
        (0, "tags"),
        (1, "title"),
    ]


def test_it_never_fails_at_commit_after_a_ready_preview(alice, tenant):
    import io

    content = "occurred_on,title,tags\n2025-01-05,Tab\tand bell\x07 are fine,ok\n"
    counts = import_commit(tenant=tenant, user=alice, fmt="csv", handle=io.BytesIO(content.encode()))
    assert counts["entries"] == 1
    assert Entry.objects.get(tenant=tenant).title == "Tab\tand bell\x07 are fine"


# --------------------------------------------------------------------------------- malformed documents


def test_it_rejects_deeply_nested_json_clearly(alice_client, upload_import):
    content = '{"entries": ' + "[" * 100_000 + "]" * 100_000 + "}"
    page = upload_import(alice_client, content, fmt="jrnl", name="journal.json")
    assert page.status_code == 400
    assert "nested too deeply" in page.content.decode()
    assert not import_uploads()


def test_it_rejects_deeply_nested_json_inside_an_export(client, charlie, other_tenant, upload_import):
    from apps.core.models import Job

    entries = '{"entries": [{"title": ' + "[" * 100_000 + "]" * 100_000 + "}]}"
    archive = make_zip({"manifest.json": MANIFEST, "entries.json": entries})
    client.force_login(charlie)
    page = upload_import(client, archive, fmt="zip", name="export.zip")

    job = Job.objects.get(tenant=other_tenant)
    assert job.status == Job.Status.FAILED
    assert "entries.json in the archive is nested too deeply" in job.error
    assert "nested too deeply" in page.content.decode()
    assert not import_uploads()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"entries": [{"date": "2024-01-01", "title": "x", "body": ' + "1" * 5000 + "}]}", "cannot be read"),
        ('{"entries": [{"date": "2024-01-01", "title": ["a", ["b", {"c": []}]]}]}', "title must be text"),
        ('{"entries": [{"date": ' + "[[[[1]]]]" + ', "title": "x"}]}', "is not a date"),
        ('{"entries": [{"date": "2024-01-01", "title": "x", "tags": {"a": 1}}]}', "tags must be a list"),
        ('{"entries": {"not": "a list"}}', "This JSON is not a jrnl export"),
        ("\xff\xfe{}", "not UTF-8"),
    ],
)
def test_it_explains_every_malformed_jrnl_file(alice_client, upload_import, content, message):
    data = content.encode("latin-1") if content.startswith("\xff") else content.encode()
    page = upload_import(alice_client, data, fmt="jrnl", name="journal.json")
    assert page.status_code == 400
    assert message in page.content.decode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("occurred_on,title,metric_value\n2025-01-01,x," + "9" * 5000 + "\n", "is not a number"),
        ("occurred_on,title,metric_value\n2025-01-01,x,1e999999999\n", "is too large"),
        ('occurred_on,title,body\n2025-01-01,x,"' + "y" * 200_000 + '"\n', "cannot be read near row"),
        ("\n\n\n", "The file is empty."),
        ("\n\noccurred_on,title\n", "no header row"),
        ("occurred_on,title\n2025-01-01,caf\xe9\n", "not UTF-8 text"),
    ],
)
def test_it_explains_every_malformed_csv_file(alice_client, upload_import, content, message):
    data = content.encode("latin-1")
    page = upload_import(alice_client, data, fmt="csv", name="log.csv")
    assert page.status_code == 400, page.content.decode()[:500]
    assert message in page.content.decode()


# ------------------------------------------------------------------------------------------ date rule


def test_it_applies_the_entry_date_rule_in_the_importing_persons_time_zone(
    client, alice, bob, tenant, upload_import
):
    # UTC+14 and UTC-11 are 25 hours apart: their "today" always differs by at least a day.
    alice.time_zone, bob.time_zone = "Pacific/Kiritimati", "Pacific/Pago_Pago"
    alice.save(update_fields=["time_zone"])
    bob.save(update_fields=["time_zone"])
    tomorrow_in_kiritimati = services._today_for(alice) + timedelta(days=1)
    content = f"occurred_on,title\n{tomorrow_in_kiritimati.isoformat()},Logged just after midnight\n"

    client.force_login(alice)
    assert upload_import(client, content, fmt="csv", name="log.csv").context["preview"].ok
    client.force_login(bob)
    page = upload_import(client, content, fmt="csv", name="log.csv")
    [(row, field, message)] = _problems(page)
    assert (row, field) == (2, "occurred_on")
    assert "log work once it has happened" in message


def test_it_names_the_row_of_every_date_problem(alice, alice_client, upload_import):
    today = services._today_for(alice)
    rows = [
        f"{today.isoformat()},Fine,false,",
        f"{(today + timedelta(days=2)).isoformat()},Too far ahead,false,",
        "1949-12-31,Too long ago,false,",
        f"{today.isoformat()},Follow-up first,true,{(today - timedelta(days=1)).isoformat()}",
        f"{today.isoformat()},Follow-up too late,true,{(today + timedelta(days=400)).isoformat()}",
        "0001-01-01,Start of the calendar,false,",
        "9999-12-31,End of the calendar,false,9999-12-31",
    ]
    content = "occurred_on,title,outcome_pending,follow_up_on\n" + "\n".join(rows) + "\n"
    page = upload_import(alice_client, content, fmt="csv", name="log.csv")
    problems = _problems(page)
    assert [(row, field) for row, field, _m in problems] == [
        (3, "occurred_on"),
        (4, "occurred_on"),
        (5, "follow_up_on"),
        (6, "follow_up_on"),
        (7, "occurred_on"),
        (8, "occurred_on"),
    ]
    assert "before the work itself" in problems[2][2]
    assert "before 1950" in problems[1][2]
