"""Citations and claims, checked bullet by bullet against the entries of the report's own workspace."""

from datetime import date

import pytest

from apps.reporting.citations import (
    REASON_BAD_CITATION,
    REASON_NO_CITATION,
    REASON_NOT_IN_SOURCES,
    ModelFormatError,
    bullets_check,
    bullets_from_markdown,
    claim_remove,
    sections_from_data,
    split_markers,
)
from apps.worklog import services as worklog
from tests.reporting.conftest import entry


def _check(tenant, bullets, allowed):
    return bullets_check([{"key": "s", "title": "S", "bullets": bullets}], tenant=tenant, allowed=allowed)[0][
        "bullets"
    ]


def test_it_keeps_only_citations_of_the_reports_own_live_entries(tenant, alice, other_tenant, charlie, log):
    outsider = entry(other_tenant, charlie, "Outsider work")
    gone = entry(tenant, alice, "Deleted work", occurred_on=date(2024, 1, 2))
    worklog.entry_delete(entry=gone, actor=alice)
    allowed = {log["deploys"].pk, gone.pk, outsider.pk}  # even if a caller allowed them
    [item] = _check(
        tenant,
        [{"text": "Cut deploy time", "citations": [log["deploys"].pk, outsider.pk, gone.pk, 424242]}],
        allowed,
    )
    assert item["citations"] == [log["deploys"].pk]
    assert [f["text"] for f in item["flags"] if f["reason"] == REASON_BAD_CITATION] == [
        f"E{outsider.pk}", f"E{gone.pk}", "E424242"
    ]  # fmt: skip


def test_it_flags_a_bullet_that_cites_nothing(tenant, log):
    [item] = _check(tenant, [{"text": "Did great things", "citations": []}], {log["deploys"].pk})
    assert item["citations"] == [] and item["flags"] == [{"text": "", "reason": REASON_NO_CITATION}]


def test_it_flags_numbers_money_dates_and_names_the_cited_entries_do_not_have(tenant, log):
    text = "Cut deploy time from 40 to 8 minutes at Acme in March 2024, saving $2M with Initech for 12 teams"
    [item] = _check(tenant, [{"text": text, "citations": [log["deploys"].pk]}], {log["deploys"].pk})
    flagged = {f["text"] for f in item["flags"]}
    assert flagged == {"$2M", "Initech", "12"}
    assert all(f["reason"] == REASON_NOT_IN_SOURCES for f in item["flags"])


def test_it_reads_inline_markers_as_citations(tenant, log):
    pk = log["deploys"].pk
    assert split_markers(f"Cut deploy time [E{pk}] [E{pk}](/log/entries/{pk}/)") == (
        "Cut deploy time",
        [pk, pk],
    )
    [item] = _check(tenant, [{"text": f"Cut deploy time [E{pk}]", "citations": []}], {pk})
    assert item == {"text": "Cut deploy time", "citations": [pk], "flags": []}


def test_it_turns_the_editors_markdown_back_into_bullets():
    text = "- First [E1]\n  continued here\n\n* Second [E2] [E3]\n\nA paragraph bullet"
    assert bullets_from_markdown(text) == [
        {"text": "First continued here", "citations": [1]},
        {"text": "Second", "citations": [2, 3]},
        {"text": "A paragraph bullet", "citations": []},
    ]


def test_it_removes_a_claim_and_the_words_left_dangling():
    assert claim_remove("Cut costs by 30% for the team", "30%") == "Cut costs for the team"
    assert claim_remove("Shipped it (for 12 teams)", "12") == "Shipped it (for teams)"
    assert claim_remove("Grew sign-ups to 40,000", "40,000") == "Grew sign-ups"


@pytest.mark.parametrize(
    "data",
    [{}, {"sections": "x"}, {"sections": [{"title": "A"}]}, {"sections": [{"title": "A", "bullets": [3]}]}],
)
def test_it_rejects_answers_without_the_sections_shape(data):
    with pytest.raises(ModelFormatError):
        sections_from_data(data)


def test_it_matches_the_models_sections_to_the_persons_titles_and_order():
    expected = [
        {"key": "a", "title": "My first", "enabled": True},
        {"key": "b", "title": "Second", "enabled": True},
    ]
    data = {"sections": [{"title": "second", "bullets": ["x [E5]"]}, {"title": "Extra", "bullets": []}]}
    result = sections_from_data(data, expected=expected)
    assert [(s["key"], s["title"]) for s in result] == [
        ("b", "Second"),
        ("extra", "Extra"),
        ("a", "My first"),
    ]
    assert result[0]["bullets"] == [{"text": "x", "citations": [5]}]
