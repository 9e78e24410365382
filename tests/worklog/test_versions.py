"""Entry text versions: every change of the text keeps what it replaced; restoring loses nothing."""

from decimal import Decimal

import pytest

from apps.core.errors import NotFound, ValidationFailed
from apps.worklog import services
from apps.worklog.models import EntryVersion
from apps.worklog.versions import (
    ChangeSource,
    entry_text,
    entry_version_get,
    entry_version_list,
    text_diff,
    value_text,
)

pytestmark = pytest.mark.django_db


def test_it_keeps_the_previous_text_when_an_edit_changes_it(make_entry, alice):
    entry = make_entry("Fixed the build", body="It was red.", impact="Green again.")
    services.entry_update(entry=entry, actor=alice, title="Fixed the flaky build", impact="Green for a week.")
    [version] = entry_version_list(tenant=entry.tenant, entry=entry)
    assert (version.title, version.body, version.impact) == ("Fixed the build", "It was red.", "Green again.")
    assert version.source == "edit" and version.source_label == "edit"
    assert version.author == alice
    entry.refresh_from_db()
    assert entry.title == "Fixed the flaky build"


def test_it_keeps_no_version_when_only_other_fields_change(make_entry, alice):
    entry = make_entry("Fixed the build", body="It was red.", metric_value=Decimal("12"))
    services.entry_update(entry=entry, actor=alice, tags=["ci"], employer="Acme", confidential=True)
    services.entry_update(entry=entry, actor=alice, title="Fixed the build", metric_value=Decimal("12.0000"))
    assert not EntryVersion.objects.exists()


def test_it_keeps_a_version_when_a_metric_changes(make_entry, alice):
    entry = make_entry("Sped up CI", metric_value=Decimal("40"), metric_unit="minutes")
    services.entry_update(entry=entry, actor=alice, metric_value=Decimal("12"))
    [version] = EntryVersion.objects.all()
    assert version.metric_value == Decimal("40") and version.metric_unit == "minutes"


def test_it_names_the_suggestion_that_changed_the_text(make_entry, alice):
    entry = make_entry("Fixed the build")
    services.entry_update(
        entry=entry,
        actor=alice,
        title="Fixed the flaky build",
        source=ChangeSource(kind="suggestion", suggestion_id=7),
    )
    [version] = EntryVersion.objects.all()
    assert version.source == "suggestion" and version.source_label == "suggestion 7"


def test_it_restores_a_version_and_keeps_the_text_it_replaces(make_entry, alice, bob):
    entry = make_entry("First title", body="First body")
    services.entry_update(entry=entry, actor=alice, title="Second title", body="Second body")
    services.entry_update(entry=entry, actor=bob, title="Third title")
    first = entry_version_list(tenant=entry.tenant, entry=entry).last()
    assert first.title == "First title"

    services.entry_version_restore(entry=entry, version=first, actor=bob)

    entry.refresh_from_db()
    assert (entry.title, entry.body) == ("First title", "First body")
    versions = list(entry_version_list(tenant=entry.tenant, entry=entry))
    assert [version.title for version in versions] == ["Third title", "Second title", "First title"]
    newest = versions[0]
    assert newest.source == "restore" and newest.restored_version == first and newest.author == bob
    assert newest.body == "Second body"


def test_it_refuses_to_restore_a_version_that_is_already_the_text(make_entry, alice):
    entry = make_entry("First title")
    services.entry_update(entry=entry, actor=alice, title="Second title")
    services.entry_update(entry=entry, actor=alice, title="First title")
    same = entry_version_list(tenant=entry.tenant, entry=entry).last()
    with pytest.raises(ValidationFailed, match="already reads like this version"):
        services.entry_version_restore(entry=entry, version=same, actor=alice)


def test_it_refuses_a_version_of_another_entry(make_entry, alice):
    one, other = make_entry("One"), make_entry("Other")
    services.entry_update(entry=other, actor=alice, title="Other, changed")
    version = EntryVersion.objects.get()
    with pytest.raises(ValidationFailed, match="another entry"):
        services.entry_version_restore(entry=one, version=version, actor=alice)
    with pytest.raises(NotFound):
        entry_version_get(tenant=one.tenant, entry=one, pk=version.pk)


def test_it_keeps_versions_to_the_entry_s_workspace(make_entry, alice, charlie, other_tenant):
    entry = make_entry("Private")
    services.entry_update(entry=entry, actor=alice, title="Private, changed")
    assert entry_version_list(tenant=other_tenant, entry=entry).count() == 0
    with pytest.raises(NotFound):
        entry_version_get(tenant=other_tenant, entry=entry, pk=EntryVersion.objects.get().pk)


def test_it_rolls_back_the_version_when_the_change_is_refused(make_entry, alice):
    entry = make_entry("Fixed the build")
    with pytest.raises(ValidationFailed):
        services.entry_update(entry=entry, actor=alice, title="Better title", body="x" * 30_000)
    assert not EntryVersion.objects.exists()


def test_it_diffs_word_by_word():
    parts = text_diff("Cut deploys from 40 to 12 minutes.", "Cut deploy time from 40 to 12 minutes!")
    assert "".join(text for op, text in parts if op != "+") == "Cut deploys from 40 to 12 minutes."
    assert "".join(text for op, text in parts if op != "-") == "Cut deploy time from 40 to 12 minutes!"
    assert ("-", "deploys") in parts and ("+", "deploy time") in parts
    assert text_diff("", "") == [] and text_diff("same", "same") == [("=", "same")]


def test_it_reads_values_as_people_write_them(make_entry):
    entry = make_entry("Sped up CI", metric_value=Decimal("12.5"), metric_unit="minutes")
    text = entry_text(entry)
    assert (
        value_text(text["metric_value"]) == "12.5"
        and value_text(None) == ""
        and value_text(Decimal("40")) == "40"
    )
