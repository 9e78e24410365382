"""Suggestions: drafted by a job, decided by the person. Accept (all unflagged, chosen, edited, confirmed),
reject, skills, the kept versions, and what is refused."""

from decimal import Decimal

import pytest

from apps.assist import selectors, services
from apps.assist.models import Suggestion, VoiceSettings
from apps.core.errors import Conflict, NotFound, ValidationFailed
from apps.worklog import services as worklog_services
from apps.worklog.models import EntryVersion, Skill
from tests.assist.conftest import DEPLOY_ENTRY, model_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def suggestion(make_entry, improve):
    """A builtin suggestion for the deploy entry: title, body, impact, the metrics and two skills."""
    entry = make_entry(**DEPLOY_ENTRY)
    improve(entry)
    return Suggestion.objects.get(entry=entry)


@pytest.fixture
def flagged(make_entry, improve, external_model, fund, tenant):
    """A model's suggestion whose title brings in a company and a percentage the entry does not have."""
    fund(tenant, 5_000_000)
    external_model.answer(model_draft(title="Cut deploy time at Globex by 70%"))
    entry = make_entry(**DEPLOY_ENTRY)
    improve(entry)
    return Suggestion.objects.get(entry=entry)


def names(suggestion):
    return [item["name"] for item in suggestion.fields]


def test_it_records_a_suggestion_field_by_field_without_changing_the_entry(suggestion):
    assert names(suggestion) == [
        "title",
        "body",
        "impact",
        "metric_value",
        "metric_unit",
        "metric_before",
        "metric_after",
    ]
    assert suggestion.field("title")["original"] == "I migrated the deploy scripts"
    assert suggestion.field("title")["proposed"] == "Migrated the deploy scripts"
    assert suggestion.skills == ["Python", "Kubernetes"]
    assert (
        suggestion.status == "pending" and suggestion.drafted_without_ai and suggestion.provider == "builtin"
    )
    entry = suggestion.entry
    entry.refresh_from_db()
    assert entry.title == DEPLOY_ENTRY["title"] and entry.impact == "" and not EntryVersion.objects.exists()


def test_it_accepts_every_unflagged_field_by_default_and_keeps_the_original(suggestion, alice):
    services.suggestion_accept(suggestion=suggestion, actor=alice)
    entry = suggestion.entry
    entry.refresh_from_db()
    assert entry.title == "Migrated the deploy scripts"
    assert (
        entry.body.startswith("**Situation:**") and entry.impact == "Deploy time went from 40 to 12 minutes."
    )
    assert (entry.metric_value, entry.metric_unit, entry.metric_before, entry.metric_after) == (
        Decimal("12"),
        "minutes",
        Decimal("40"),
        Decimal("12"),
    )
    assert sorted(entry.skills.values_list("name", flat=True)) == ["Kubernetes", "Python"]
    [version] = EntryVersion.objects.filter(entry=entry)
    assert version.title == DEPLOY_ENTRY["title"] and version.body == DEPLOY_ENTRY["body"]
    assert version.source_label == f"suggestion {suggestion.pk}" and version.author == alice
    suggestion.refresh_from_db()
    assert suggestion.status == "accepted" and suggestion.decided_by == alice and suggestion.decided_at
    assert {item["decision"] for item in suggestion.fields} == {"accepted"}


def test_it_applies_only_the_chosen_fields_and_skills(suggestion, alice):
    services.suggestion_accept(suggestion=suggestion, actor=alice, fields=["title"], skills=["Python"])
    entry = suggestion.entry
    entry.refresh_from_db()
    assert entry.title == "Migrated the deploy scripts" and entry.body == DEPLOY_ENTRY["body"]
    assert entry.impact == "" and entry.metric_value is None
    assert list(entry.skills.values_list("name", flat=True)) == ["Python"]
    suggestion.refresh_from_db()
    assert suggestion.status == "partially_accepted" and suggestion.accepted_skills == ["Python"]
    decisions = {item["name"]: item["decision"] for item in suggestion.fields}
    assert decisions["title"] == "accepted" and decisions["body"] == "rejected"


def test_it_feeds_accepted_skills_into_the_skills_index(suggestion, alice):
    services.suggestion_accept(suggestion=suggestion, actor=alice, fields=[], skills=["Kubernetes"])
    skill = Skill.objects.get(tenant=suggestion.tenant, name="Kubernetes")
    assert list(skill.entries.all()) == [suggestion.entry]
    assert not EntryVersion.objects.exists()  # no text changed, so no version


def test_it_applies_an_edit_of_a_field(suggestion, alice):
    services.suggestion_accept(
        suggestion=suggestion, actor=alice, fields=["title"], edits={"title": "Rewrote the deploy scripts"}
    )
    entry = suggestion.entry
    entry.refresh_from_db()
    assert entry.title == "Rewrote the deploy scripts"
    suggestion.refresh_from_db()
    assert suggestion.field("title")["decision"] == "edited"
    assert suggestion.field("title")["applied"] == "Rewrote the deploy scripts"


def test_it_rejects_everything_and_leaves_the_entry_alone(suggestion, alice):
    services.suggestion_reject(suggestion=suggestion, actor=alice)
    entry = suggestion.entry
    entry.refresh_from_db()
    assert entry.title == DEPLOY_ENTRY["title"] and not entry.skills.exists()
    suggestion.refresh_from_db()
    assert suggestion.status == "rejected" and {item["decision"] for item in suggestion.fields} == {
        "rejected"
    }
    assert not EntryVersion.objects.exists()


def test_it_counts_an_accept_of_nothing_as_a_rejection(suggestion, alice):
    services.suggestion_accept(suggestion=suggestion, actor=alice, fields=[], skills=[])
    suggestion.refresh_from_db()
    assert suggestion.status == "rejected"


def test_it_decides_a_suggestion_only_once(suggestion, alice):
    services.suggestion_reject(suggestion=suggestion, actor=alice)
    with pytest.raises(Conflict, match="already decided"):
        services.suggestion_accept(suggestion=suggestion, actor=alice)
    with pytest.raises(Conflict):
        services.suggestion_reject(suggestion=suggestion, actor=alice)


def test_it_refuses_a_field_the_entry_changed_since(suggestion, alice):
    worklog_services.entry_update(entry=suggestion.entry, actor=alice, title="My own newer title")
    with pytest.raises(Conflict, match="Title changed after this suggestion was made"):
        services.suggestion_accept(suggestion=suggestion, actor=alice, fields=["title"])
    entry = suggestion.entry
    entry.refresh_from_db()
    assert entry.title == "My own newer title"
    services.suggestion_accept(
        suggestion=suggestion, actor=alice, fields=["impact"]
    )  # the others still apply
    entry.refresh_from_db()
    assert entry.title == "My own newer title" and entry.impact


def test_it_refuses_names_the_suggestion_does_not_have(suggestion, alice):
    with pytest.raises(ValidationFailed, match="no tags"):
        services.suggestion_accept(suggestion=suggestion, actor=alice, fields=["tags"])
    with pytest.raises(ValidationFailed, match="did not propose Go"):
        services.suggestion_accept(suggestion=suggestion, actor=alice, skills=["Go"])


def test_it_refuses_an_edit_the_entry_cannot_keep(suggestion, alice):
    with pytest.raises(ValidationFailed):
        services.suggestion_accept(
            suggestion=suggestion, actor=alice, fields=["title"], edits={"title": "  "}
        )
    with pytest.raises(ValidationFailed, match="Result must be a number"):
        services.suggestion_accept(
            suggestion=suggestion, actor=alice, fields=["metric_value"], edits={"metric_value": "twelve"}
        )
    suggestion.refresh_from_db()
    assert suggestion.status == "pending"


# ---------------------------------------------------------------- flagged text


def test_it_flags_what_the_model_brought_in(flagged):
    assert flagged.field("title")["flags"] == [
        {"text": "Globex", "reason": "not in your entry"},
        {"text": "70%", "reason": "not in your entry"},
    ]
    assert flagged.flagged_count == 1 and not flagged.drafted_without_ai and flagged.cost_micros > 0


def test_it_leaves_a_flagged_field_out_of_the_default(flagged, alice):
    services.suggestion_accept(suggestion=flagged, actor=alice)
    entry = flagged.entry
    entry.refresh_from_db()
    assert entry.title == DEPLOY_ENTRY["title"] and entry.impact == "Deploy time went from 40 to 12 minutes."
    flagged.refresh_from_db()
    assert flagged.status == "partially_accepted" and flagged.field("title")["decision"] == "rejected"


def test_it_refuses_a_flagged_field_until_it_is_edited_or_confirmed(flagged, alice):
    with pytest.raises(ValidationFailed, match="“Globex”, “70%”, not in your entry") as refused:
        services.suggestion_accept(suggestion=flagged, actor=alice, fields=["title"])
    assert refused.value.extra["flags"][0]["text"] == "Globex" and refused.value.field == "title"
    flagged.refresh_from_db()
    assert flagged.status == "pending"


def test_it_checks_an_edit_again(flagged, alice):
    with pytest.raises(ValidationFailed, match="“Globex”"):
        services.suggestion_accept(
            suggestion=flagged, actor=alice, fields=["title"], edits={"title": "Cut deploy time at Globex"}
        )
    services.suggestion_accept(
        suggestion=flagged,
        actor=alice,
        fields=["title"],
        edits={"title": "Cut deploy time from 40 to 12 minutes"},
    )
    entry = flagged.entry
    entry.refresh_from_db()
    assert entry.title == "Cut deploy time from 40 to 12 minutes"


def test_it_applies_a_flagged_field_the_person_confirms(flagged, alice):
    services.suggestion_accept(suggestion=flagged, actor=alice, fields=["title"], confirm_flagged=["title"])
    entry = flagged.entry
    entry.refresh_from_db()
    assert entry.title == "Cut deploy time at Globex by 70%"


# ------------------------------------------------------------------ lifecycle


def test_it_replaces_an_older_pending_suggestion(make_entry, improve):
    entry = make_entry(**DEPLOY_ENTRY)
    improve(entry)
    improve(entry)
    statuses = list(Suggestion.objects.filter(entry=entry).order_by("pk").values_list("status", flat=True))
    assert statuses == ["superseded", "pending"]
    assert selectors.suggestion_for_entry(tenant=entry.tenant, entry=entry).status == "pending"


def test_it_says_when_there_is_nothing_to_change(make_entry, improve):
    entry = make_entry("Fixed the flaky test")
    job, _plan = improve(entry)
    suggestion = Suggestion.objects.get(entry=entry)
    assert suggestion.status == "no_changes" and suggestion.fields == []
    assert job.summary["lines"] == ["Nothing to change: the entries already read well."]
    assert selectors.suggestion_for_entry(tenant=entry.tenant, entry=entry) is None


def test_it_hides_suggestions_of_deleted_entries_and_other_workspaces(suggestion, alice, other_tenant):
    with pytest.raises(NotFound):
        selectors.suggestion_get(tenant=other_tenant, pk=suggestion.pk)
    worklog_services.entry_delete(entry=suggestion.entry, actor=alice)
    with pytest.raises(NotFound):
        selectors.suggestion_get(tenant=suggestion.tenant, pk=suggestion.pk)
    assert selectors.suggestion_queue(tenant=suggestion.tenant).count() == 0


# ---------------------------------------------------------------------- voice


def test_it_saves_voice_settings_per_person(tenant, alice, bob):
    services.voice_settings_update(
        tenant=tenant,
        user=alice,
        tone="confident",
        length="short",
        person="third",
        instructions=" UK spelling ",
    )
    voice = selectors.voice_settings_get(tenant=tenant, user=alice)
    assert (voice.tone, voice.length, voice.person, voice.instructions) == (
        "confident",
        "short",
        "third",
        "UK spelling",
    )
    assert voice.allow_confidential_external is False
    assert selectors.voice_settings_get(tenant=tenant, user=bob).pk is None  # bob keeps the defaults
    services.voice_settings_update(tenant=tenant, user=alice, tone="plain", length="medium", person="first")
    assert VoiceSettings.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tone": "shouty"}, "tone"),
        ({"person": "second"}, "person"),
        ({"instructions": "x" * 1001}, "instructions"),
    ],
)
def test_it_refuses_voice_settings_it_does_not_know(tenant, alice, changes, field):
    values = {"tone": "plain", "length": "medium", "person": "first", **changes}
    with pytest.raises(ValidationFailed) as refused:
        services.voice_settings_update(tenant=tenant, user=alice, **values)
    assert refused.value.field == field
