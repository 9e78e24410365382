from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.core.errors import Conflict, ValidationFailed
from apps.core.models import Event
from apps.worklog import services
from apps.worklog.models import Employer, Entry, Project, Skill, Tag


def test_it_creates_an_entry_with_its_reference_data(make_entry, tenant, alice):
    entry = make_entry(
        "Cut deploy time",
        occurred_on=date(2025, 3, 14),
        employer="Acme",
        project="Pipeline",
        skills="js, Kubernetes ,  kubernetes",
        tags=["#Launch", "launch", "Team Work"],
        body="Details",
        impact="From 40 to 8 minutes",
    )
    assert entry.tenant == tenant and entry.author == alice
    assert entry.employer.name == "Acme" and entry.project.employer == entry.employer
    assert sorted(entry.skills.values_list("name", flat=True)) == ["JavaScript", "Kubernetes"]
    assert sorted(entry.tags.values_list("name", flat=True)) == ["launch", "team work"]
    assert Event.objects.filter(kind="entry.created", tenant=tenant).exists()


def test_it_reuses_employers_projects_and_skills_whatever_the_case(make_entry, tenant):
    make_entry(employer="Acme Corp", project="Atlas", skills=["PostgreSQL"])
    make_entry(employer="acme corp", project="ATLAS", skills=["postgres", "PG"])
    assert Employer.objects.filter(tenant=tenant).count() == 1
    assert Project.objects.filter(tenant=tenant).count() == 1
    assert list(Skill.objects.filter(tenant=tenant).values_list("name", flat=True)) == ["PostgreSQL"]


def test_it_keeps_each_workspace_s_names_apart(make_entry, charlie, other_tenant):
    make_entry(employer="Acme", skills=["Go"])
    make_entry(employer="Acme", skills=["Go"], owner=charlie, workspace=other_tenant)
    assert Employer.objects.count() == 2 and Skill.objects.count() == 2


def test_it_defaults_the_date_to_today_in_the_author_s_time_zone(make_entry, alice):
    alice.time_zone = "Pacific/Auckland"
    alice.save()
    with time_machine.travel(datetime(2025, 6, 30, 20, 0, tzinfo=UTC)):
        entry = make_entry()
    assert entry.occurred_on == date(2025, 7, 1)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": "  "}, "title", "Give the entry a title."),
        ({"title": "x" * 201}, "title", "Keep a title to 200 characters (it has 201)."),
        ({"body": "x" * 20_001}, "body", "Keep the description to 20,000 characters"),
        ({"occurred_on": date(1900, 1, 1)}, "occurred_on", "before 1950"),
        (
            {"occurred_on": timezone.localdate() + timedelta(days=2)},
            "occurred_on",
            "log work once it has happened",
        ),
        (
            {"follow_up_on": timezone.localdate() + timedelta(days=400)},
            "follow_up_on",
            "check the year",
        ),
        (
            {"occurred_on": date(2025, 3, 10), "follow_up_on": date(2025, 3, 9)},
            "follow_up_on",
            "before the work itself",
        ),
        ({"outcome_pending": True}, "follow_up_on", "pick a date to come back"),
        ({"employer": "e" * 121}, "employer", "Keep the employer name to 120 characters."),
        ({"skills": [f"skill {n}" for n in range(31)]}, "skills", "up to 30 skills"),
        ({"tags": ["t" * 51]}, "tags", "Keep each tag to 50 characters."),
        ({"links": ["javascript:alert(1)"]}, "url", "start with https://"),
    ],
)
def test_it_refuses_bad_input_with_a_message_and_saves_nothing(make_entry, fields, field, message):
    fields.setdefault("title", "Fine title")
    with pytest.raises(ValidationFailed) as caught:
        make_entry(**fields)
    assert caught.value.field == field
    assert message in caught.value.message
    assert not Entry.objects.exists() and not Employer.objects.exists() and not Skill.objects.exists()


def test_it_updates_only_the_fields_given(make_entry, alice):
    entry = make_entry("Old", employer="Acme", skills=["Go"], tags=["infra"], impact="Kept")
    services.entry_update(entry=entry, actor=alice, title="New", skills=["Rust"])
    entry.refresh_from_db()
    assert entry.title == "New" and entry.impact == "Kept" and entry.employer.name == "Acme"
    assert list(entry.skills.values_list("name", flat=True)) == ["Rust"]
    assert list(entry.tags.values_list("name", flat=True)) == ["infra"]
    event = Event.objects.filter(kind="entry.updated").get()
    assert event.data["fields"] == ["skills", "title"]


def test_it_clears_the_employer_and_refuses_a_missing_date(make_entry, alice):
    entry = make_entry(employer="Acme")
    services.entry_update(entry=entry, actor=alice, employer=None)
    assert Entry.objects.get().employer is None
    with pytest.raises(ValidationFailed, match="Give the entry a date"):
        services.entry_update(entry=entry, actor=alice, occurred_on=None)


def test_it_deletes_softly_and_restores(make_entry, alice):
    entry = make_entry()
    services.entry_delete(entry=entry, actor=alice)
    assert Entry.objects.get().deleted_at is not None
    with pytest.raises(ValidationFailed, match="Undo the delete"):
        services.entry_update(entry=entry, actor=alice, title="Changed")
    services.entry_restore(entry=entry, actor=alice)
    assert Entry.objects.get().deleted_at is None
    kinds = list(Event.objects.filter(kind__startswith="entry.").values_list("kind", flat=True))
    assert sorted(kinds) == ["entry.created", "entry.deleted", "entry.restored"]


def test_it_purges_only_entries_deleted_long_ago(
    make_entry, alice, media, django_capture_on_commit_callbacks
):
    old, recent, live = make_entry("old"), make_entry("recent"), make_entry("live")
    piece = services.evidence_add_file(
        entry=old, actor=alice, upload=SimpleUploadedFile("a.txt", b"notes", content_type="text/plain")
    )
    stored = media / piece.file.name
    assert stored.exists()
    with time_machine.travel(timezone.now() - timedelta(days=31)):
        services.entry_delete(entry=old, actor=alice)
    services.entry_delete(entry=recent, actor=alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.entry_purge_deleted() == 1
    assert set(Entry.objects.values_list("title", flat=True)) == {"recent", "live"}
    assert live.deleted_at is None
    assert not stored.exists()


def test_it_renames_a_skill_and_normalises_the_new_name(make_entry, alice):
    skill = make_entry(skills=["Javscript"]).skills.get()
    services.skill_rename(skill=skill, actor=alice, name=" js ")
    skill.refresh_from_db()
    assert (skill.name, skill.key) == ("JavaScript", "javascript")


def test_it_refuses_a_rename_onto_another_skill_and_points_to_merge(make_entry, alice):
    entry = make_entry(skills=["Go", "Golang stuff"])
    other = entry.skills.get(name="Golang stuff")
    with pytest.raises(Conflict, match=r"You already have the skill “Go”\. Merge"):
        services.skill_rename(skill=other, actor=alice, name="golang")


def test_it_merges_skills_moving_every_entry_once(make_entry, alice, tenant):
    both = make_entry("both", skills=["React", "ReactJS native"])
    only_source = make_entry("source", skills=["ReactJS native"])
    source = Skill.objects.get(name="ReactJS native")
    target = Skill.objects.get(name="React")
    services.skill_merge(source=source, target=target, actor=alice)
    assert not Skill.objects.filter(pk=source.pk).exists()
    assert list(both.skills.values_list("name", flat=True)) == ["React"]
    assert list(only_source.skills.values_list("name", flat=True)) == ["React"]
    assert Event.objects.get(kind="skill.merged").data["entries"] == 2


def test_it_refuses_to_merge_across_workspaces_or_into_itself(make_entry, alice, charlie, other_tenant):
    mine = make_entry(skills=["Go"]).skills.get()
    theirs = make_entry(owner=charlie, workspace=other_tenant, skills=["Go"]).skills.get()
    with pytest.raises(ValidationFailed, match="your own list"):
        services.skill_merge(source=mine, target=theirs, actor=alice)
    with pytest.raises(ValidationFailed, match="different skill"):
        services.skill_merge(source=mine, target=mine, actor=alice)
    assert Skill.objects.count() == 2


def test_it_normalises_tags(tenant):
    assert services.tag_get_or_create(tenant=tenant, name="  #Big   Launch ").name == "big launch"
    assert Tag.objects.count() == 1


def test_it_accepts_work_logged_for_tomorrow_across_a_date_line(make_entry):
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert make_entry(occurred_on=tomorrow).occurred_on == tomorrow


def test_it_refuses_an_update_that_moves_the_work_after_its_follow_up(make_entry, alice):
    entry = make_entry(occurred_on=date(2025, 3, 1), outcome_pending=True, follow_up_on=date(2025, 4, 1))
    with pytest.raises(ValidationFailed) as caught:
        services.entry_update(entry=entry, actor=alice, occurred_on=date(2025, 4, 2))
    assert caught.value.field == "follow_up_on"
    entry.refresh_from_db()
    assert entry.occurred_on == date(2025, 3, 1)
