"""Skills' counters (`entry_count`, `last_used_on`) stay exact through every service that moves them, and the
skills page and API read them without counting the log."""

import io
import random
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.worklog import selectors, services
from apps.worklog.models import Entry, EntryVersion, Skill
from apps.worklog.porting.importers import import_commit
from tests.concurrency import run_in_threads
from tests.worklog.conftest import bearer


def _counts(tenant) -> dict[str, tuple[int, date | None]]:
    return {
        skill.name: (skill.entry_count, skill.last_used_on) for skill in Skill.objects.filter(tenant=tenant)
    }


def test_it_keeps_counts_exact_through_edit_delete_restore_and_merge(make_entry, alice, tenant):
    early = make_entry(occurred_on=date(2025, 1, 10), skills=["Go", "SQL"])
    late = make_entry(occurred_on=date(2025, 5, 2), skills=["Go"])
    assert _counts(tenant) == {"Go": (2, date(2025, 5, 2)), "SQL": (1, date(2025, 1, 10))}

    services.entry_update(entry=late, actor=alice, occurred_on=date(2025, 3, 1))
    assert _counts(tenant)["Go"] == (2, date(2025, 3, 1))  # the latest date moved back with the entry

    services.entry_update(entry=early, actor=alice, skills=["SQL", "Rust"])
    assert _counts(tenant) == {
        "Go": (1, date(2025, 3, 1)),
        "SQL": (1, date(2025, 1, 10)),
        "Rust": (1, date(2025, 1, 10)),
    }

    services.entry_delete(entry=late, actor=alice)
    assert _counts(tenant)["Go"] == (0, None)
    services.entry_restore(entry=Entry.objects.get(pk=late.pk), actor=alice)
    assert _counts(tenant)["Go"] == (1, date(2025, 3, 1))

    go, rust = Skill.objects.get(tenant=tenant, name="Go"), Skill.objects.get(tenant=tenant, name="Rust")
    services.skill_merge(source=rust, target=go, actor=alice)
    assert _counts(tenant) == {"Go": (2, date(2025, 3, 1)), "SQL": (1, date(2025, 1, 10))}
    assert services.skill_counts_check(tenant=tenant) == []


def test_it_keeps_counts_exact_when_a_version_is_restored(make_entry, alice, tenant):
    entry = make_entry("First title", occurred_on=date(2025, 2, 1), skills=["Go"])
    services.entry_update(entry=entry, actor=alice, title="Second title", skills=["SQL"])
    version = EntryVersion.objects.filter(entry=entry).order_by("pk").first()
    services.entry_version_restore(entry=Entry.objects.get(pk=entry.pk), version=version, actor=alice)
    assert services.skill_counts_check(tenant=tenant) == []


def test_it_counts_the_skills_of_imported_entries(alice, tenant, make_entry):
    make_entry(occurred_on=date(2025, 1, 5), skills=["Python"])
    content = (
        "occurred_on,title,body,impact,employer,project,skills,tags,confidential,outcome_pending,follow_up_on,"
        "metric_value,metric_unit\n"
        "2025-03-14,Shipped the billing page,,,,,Python; js,,false,false,,,\n"
        "2025-04-02,Wrote the runbook,,,,,python,,false,false,,,\n"
    )
    import_commit(tenant=tenant, user=alice, fmt="csv", handle=io.BytesIO(content.encode()))
    counts = _counts(tenant)
    assert counts["Python"] == (3, date(2025, 4, 2))
    assert sum(count for count, _last in counts.values()) == 4
    assert services.skill_counts_check(tenant=tenant) == []


def test_it_stays_exact_through_a_random_run_of_changes(make_entry, alice, tenant):
    rng = random.Random(10)
    names = ["Go", "SQL", "Rust", "Python", "Leadership"]
    entries: list[Entry] = []
    for step in range(60):
        action = rng.choice(["create", "create", "skills", "date", "delete", "restore", "merge"])
        if action == "create" or not entries:
            day = date(2024, 1, 1) + timedelta(days=rng.randrange(400))
            entries.append(
                make_entry(f"entry {step}", occurred_on=day, skills=rng.sample(names, min(2, len(names))))
            )
        elif action == "skills":
            entry = Entry.objects.get(pk=rng.choice(entries).pk)
            if entry.deleted_at is None:
                services.entry_update(
                    entry=entry, actor=alice, skills=rng.sample(names, rng.randrange(min(4, len(names) + 1)))
                )
        elif action == "date":
            entry = Entry.objects.get(pk=rng.choice(entries).pk)
            if entry.deleted_at is None:
                day = date(2024, 1, 1) + timedelta(days=rng.randrange(400))
                services.entry_update(entry=entry, actor=alice, occurred_on=day)
        elif action == "delete":
            entry = Entry.objects.get(pk=rng.choice(entries).pk)
            if entry.deleted_at is None:
                services.entry_delete(entry=entry, actor=alice)
        elif action == "restore":
            entry = Entry.objects.get(pk=rng.choice(entries).pk)
            if entry.deleted_at is not None:
                services.entry_restore(entry=entry, actor=alice)
        elif action == "merge":
            skills = list(Skill.objects.filter(tenant=tenant).order_by("pk"))
            if len(skills) > 2 and len(names) > 3:
                source, target = rng.sample(skills, 2)
                services.skill_merge(source=source, target=target, actor=alice)
                names = [name for name in names if name != source.name]
        assert services.skill_counts_check(tenant=tenant) == [], f"after step {step} ({action})"


def test_it_shows_counts_on_the_skills_page_and_api_without_reading_entries(
    make_entry, alice, alice_client, alice_token, tenant, client
):
    for number in range(3):
        make_entry(f"go {number}", occurred_on=date(2025, 6, 1 + number), skills=["Go"])
    services.entry_delete(entry=make_entry("gone", occurred_on=date(2025, 7, 1), skills=["Go"]), actor=alice)
    with CaptureQueriesContext(connection) as captured:
        response = alice_client.get(reverse("worklog_skills"))
    assert response.status_code == 200
    assert not [q["sql"] for q in captured.captured_queries if '"worklog_entry"' in q["sql"]]
    [skill] = response.context["skills"]
    assert (skill.name, skill.entry_count, skill.last_used_on) == ("Go", 3, date(2025, 6, 3))
    assert '<td class="text-end ar-num">3</td>' in response.content.decode()
    with CaptureQueriesContext(connection) as captured:
        listed = client.get("/api/worklog/skills/", **bearer(alice_token))
    assert listed.status_code == 200
    assert not [q["sql"] for q in captured.captured_queries if '"worklog_entry"' in q["sql"]]
    rows = listed.json()
    assert [(row["name"], row["entry_count"], row["last_used_on"]) for row in rows] == [
        ("Go", 3, "2025-06-03")
    ]
    assert selectors.skill_list(tenant=tenant).get().entry_count == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between threads need PostgreSQL")
def test_it_counts_exactly_when_people_log_and_delete_at_the_same_time(alice, tenant):
    workers, each = 6, 5

    def work(number: int) -> None:
        for step in range(each):
            entry = services.entry_create(
                tenant=tenant,
                author=alice,
                title=f"thread {number} entry {step}",
                occurred_on=date(2025, 1, 1) + timedelta(days=number * each + step),
                skills=["Go", "SQL"] if step % 2 else ["SQL", "Go", "Rust"],
            )
            if step == 0:
                services.entry_delete(entry=entry, actor=alice)

    run_in_threads(workers, work)
    counts = _counts(tenant)
    live = workers * (each - 1)
    assert counts["Go"][0] == live and counts["SQL"][0] == live
    assert counts["Rust"][0] == workers * 2  # steps 2 and 4 of each thread (step 0 was deleted)
    assert counts["Go"][1] == date(2025, 1, 1) + timedelta(days=workers * each - 1)
    assert services.skill_counts_check(tenant=tenant) == []


def test_it_finds_and_fixes_wrong_counters_with_the_recount_command(make_entry, tenant):
    from django.core.management import CommandError, call_command

    make_entry(occurred_on=date(2025, 2, 2), skills=["Go"])
    Skill.objects.filter(tenant=tenant).update(entry_count=7)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 skill"):
        call_command("worklog_recount", stdout=out)
    assert "stored (7, datetime.date(2025, 2, 2)), counted (1, datetime.date(2025, 2, 2))" in out.getvalue()
    call_command("worklog_recount", "--fix", stdout=out)
    assert _counts(tenant) == {"Go": (1, date(2025, 2, 2))}
    call_command("worklog_recount", stdout=out)
    assert "Every skill's counters match the log." in out.getvalue()
