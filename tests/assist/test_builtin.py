"""The builtin enhancer on a table of entries: it restructures the entry's own words, moves the numbers it
finds into the measurable result, proposes skills, and never brings in a number, name or date."""

from datetime import date
from decimal import Decimal

import pytest

from apps.assist.builtin import builtin_draft, classify, find_metric, sentences
from apps.assist.drafts import DRAFT_SCHEMA, EntrySnapshot, draft_validate
from apps.llm.claims import claim_flags

ENTRIES = [
    EntrySnapshot(
        1,
        title="I migrated the deploy scripts",
        body=(
            "Deploys were slow and flaky because the scripts were bash. I rewrote them in Python and moved "
            "them to Kubernetes. Deploy time went from 40 to 12 minutes."
        ),
        employer="Acme",
    ),
    EntrySnapshot(
        2,
        title="Checkout latency work",
        body=(
            "Customers complained that checkout was slow. Profiled the payment service and added a cache in "
            "front of Stripe. p95 latency dropped by 35%."
        ),
    ),
    EntrySnapshot(
        3,
        title="Negotiated the vendor contract",
        body="Renegotiated the Datadog contract in March 2024. We now save $120k a year.",
        occurred_on=date(2024, 3, 28),
    ),
    EntrySnapshot(
        4,
        title="Support rota",
        body=(
            "The on-call rota was a spreadsheet, e.g. nobody knew who was on. I built a Slack bot that posts "
            "the rota. Now 40 engineers get paged correctly."
        ),
    ),
    EntrySnapshot(5, title="fixed the flaky test"),
    EntrySnapshot(
        6,
        title="Onboarding guide",
        body=(
            "- Wrote the onboarding guide for the Platform team\n- Ran two sessions with Jane Doe\n"
            "- New hires ship in 3 days, down from 10"
        ),
        impact="New hires now ship their first change in 3 days.",
        skills=("Technical writing",),
    ),
    EntrySnapshot(
        7,
        title="Cut AWS costs",
        body="Moved batch jobs to spot instances. Monthly bill went 18,000 -> 11,500 dollars.",
        metric_value=Decimal("6500"),
        metric_unit="dollars",
    ),
]


@pytest.mark.parametrize("snapshot", ENTRIES, ids=[entry.title for entry in ENTRIES])
def test_it_never_brings_in_a_number_name_or_date(snapshot):
    draft = builtin_draft(snapshot)
    source = snapshot.source_texts()
    for name in ("title", "body", "impact", "metric_value", "metric_unit", "metric_before", "metric_after"):
        assert claim_flags(str(draft[name]), source) == [], (name, draft[name])


@pytest.mark.parametrize("snapshot", ENTRIES, ids=[entry.title for entry in ENTRIES])
def test_it_answers_in_the_shape_a_model_is_asked_for(snapshot):
    import jsonschema

    draft = builtin_draft(snapshot)
    jsonschema.validate(draft, DRAFT_SCHEMA)
    assert draft_validate(draft)["title"]
    assert builtin_draft(snapshot) == draft  # deterministic


# (entry number, title, metric value, unit, before, after)
EXPECTED = [
    (1, "Migrated the deploy scripts", "12", "minutes", "40", "12"),
    (2, "Profiled the payment service and added a cache in front of Stripe", "35", "%", "", ""),
    (3, "Negotiated the vendor contract", "120000", "dollars a year", "", ""),
    (4, "Built a Slack bot that posts the rota", "40", "engineers", "", ""),
    (5, "Fixed the flaky test", "", "", "", ""),
    (6, "Wrote the onboarding guide for the Platform team", "3", "days", "", ""),
    (7, "Cut AWS costs", "6500", "dollars", "", ""),  # the person's own metric is kept
]


@pytest.mark.parametrize(("number", "title", "value", "unit", "before", "after"), EXPECTED)
def test_it_leads_with_the_action_and_moves_the_numbers(number, title, value, unit, before, after):
    draft = builtin_draft(ENTRIES[number - 1])
    assert draft["title"] == title
    assert (draft["metric_value"], draft["metric_unit"], draft["metric_before"], draft["metric_after"]) == (
        value,
        unit,
        before,
        after,
    )


def test_it_sorts_the_details_into_situation_action_and_result():
    draft = builtin_draft(ENTRIES[0])
    assert draft["body"] == (
        "**Situation:** Deploys were slow and flaky because the scripts were bash.\n\n"
        "**What I did:**\n- Rewrote them in Python and moved them to Kubernetes.\n\n"
        "**Result:** Deploy time went from 40 to 12 minutes."
    )
    assert draft["impact"] == "Deploy time went from 40 to 12 minutes."


def test_it_keeps_an_impact_the_person_wrote():
    assert builtin_draft(ENTRIES[5])["impact"] == "New hires now ship their first change in 3 days."


def test_it_leaves_a_one_sentence_body_as_it_is():
    snapshot = EntrySnapshot(9, title="Reviewed PRs", body="Reviewed twelve pull requests for the release.")
    assert builtin_draft(snapshot)["body"] == "Reviewed twelve pull requests for the release."


def test_it_proposes_skills_from_the_vocabulary_but_not_the_entry_s_own():
    assert builtin_draft(ENTRIES[0])["skills"] == ["Python", "Kubernetes"]
    with_python = EntrySnapshot(1, title=ENTRIES[0].title, body=ENTRIES[0].body, skills=("python",))
    assert builtin_draft(with_python)["skills"] == ["Kubernetes"]


def test_it_restructures_its_own_draft_the_same_way():
    first = builtin_draft(ENTRIES[0])
    again = builtin_draft(EntrySnapshot(1, title=first["title"], body=first["body"], impact=first["impact"]))
    assert again["body"] == first["body"] and again["title"] == first["title"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cut the build from 20 to 8 minutes.", {"metric_value": Decimal(8), "metric_unit": "minutes"}),
        ("Error rate 4.5% -> 0.5%", {"metric_value": Decimal("0.5"), "metric_unit": "%"}),
        ("Grew signups by 40 percent.", {"metric_value": Decimal(40), "metric_unit": "%"}),
        (
            "Saved €1.5k per month on hosting.",
            {"metric_value": Decimal(1500), "metric_unit": "euros per month"},
        ),
        ("Raised $2M in the round.", {"metric_value": Decimal(2_000_000), "metric_unit": "dollars"}),
        ("Closed 2,000 tickets.", {"metric_value": Decimal(2000), "metric_unit": "tickets"}),
        ("Shipped it in 2024.", {}),
    ],
)
def test_it_finds_the_measurable_result(text, expected):
    found = find_metric([text])
    assert {name: found.get(name) for name in expected} == expected
    if not expected:
        assert found == {}


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("Deploys were slow and flaky.", "situation"),
        ("Rewrote the scripts in Python.", "action"),
        ("I rewrote the scripts in Python.", "action"),
        ("Deploy time went from 40 to 12 minutes.", "result"),
        ("Deploys now take minutes.", "result"),
    ],
)
def test_it_tells_situation_action_and_result_apart(sentence, kind):
    assert classify(sentence) == kind


def test_it_reads_sentences_from_bullets_and_its_own_labels():
    text = "**Situation:** It was slow.\n\n**What I did:**\n- Fixed it, e.g. the cache.\n1. Then shipped it."
    assert sentences(text) == ["It was slow.", "Fixed it, e.g. the cache.", "Then shipped it."]
