"""The fabrication guard (apps/llm/claims.py) on a table of cases: what a proposal may and may not add."""

import pytest

from apps.llm.claims import REASON, claim_flags, claims_find, flag_spans

SOURCE = (
    "Cut deploy time from 40 to 12 minutes for the Payments team at Acme in March 2024. "
    "The migration saved 2 million dollars and reached 2,000 users. Moved the queue to PostgreSQL; "
    "three teams use it. Details: https://wiki.example.com/deploys"
)

# (proposed text, the texts flagged "not in your entry")
CASES = [
    # numbers
    ("Cut deploys from 40 to 12 minutes", []),
    ("Cut deploys from 45 to 12 minutes", ["45"]),
    ("Reached 2000 users", []),
    ("Reached 2k users", []),
    ("Reached 2,500 users", ["2,500"]),
    ("Three teams, then 3 teams", []),
    ("Saved 28 minutes per deploy", ["28"]),
    ("Deploys are 5x faster", ["5x"]),
    ("Handled 1.5 million requests", ["1.5 million"]),
    # percentages
    ("Cut deploy time by 70%", ["70%"]),
    ("Cut deploy time by 40 %", ["40 %"]),
    ("Cut deploy time by 40 percent", ["40 percent"]),
    # money
    ("Saved $2M", []),
    ("Saved $2,000,000", []),
    ("Saved 2 million dollars", []),
    ("Saved $3M", ["$3M"]),
    ("Saved €1.5k on hosting", ["€1.5k"]),
    ("Saved €2M", ["€2M"]),
    ("Saved USD 500 a month", ["USD 500"]),
    # dates
    ("Shipped in March 2024", []),
    ("Shipped in March", []),
    ("Shipped in 2024", []),
    ("Shipped in Q1", []),
    ("Shipped in Q1 2024", []),
    ("Shipped in Q3", ["Q3"]),
    ("Shipped on March 14, 2024", ["March 14, 2024"]),
    ("Shipped on 2024-03-01", ["2024-03-01"]),
    ("Shipped in April 2024", ["April 2024"]),
    ("Shipped in 2023", ["2023"]),
    ("Planned for FY25", ["FY25"]),
    # names
    ("Cut deploy time for the Payments team at Acme", []),
    ("Cut deploy time for the payments team at ACME", []),
    ("Cut deploy time at Acme's Payments team", []),
    ("Cut deploy time at Globex", ["Globex"]),
    ("Worked with Jane Smith on the queue", ["Jane Smith"]),
    ("Moved the queue to PostgreSQL", []),
    ("Moved the queue to MySQL on AWS", ["MySQL", "AWS"]),
    ("Partnered with the Bank of England", ["Bank of England"]),
    ("I moved the queue; the API and CI are faster", []),
    # links
    ("See https://wiki.example.com/deploys for details", []),
    ("See https://evil.example.org/x for details", ["https://evil.example.org/x"]),
    # structure the builtin writes is never a claim
    (
        "**Situation:** Deploy time was slow.\n\n**What I did:**\n- Moved the queue to PostgreSQL\n\n"
        "**Result:** Cut deploy time from 40 to 12 minutes.",
        [],
    ),
    ("1. Moved the queue\n2. Cut deploy time", []),
]


@pytest.mark.parametrize(("proposed", "expected"), CASES, ids=[case[0][:48] for case in CASES])
def test_it_flags_exactly_what_the_entry_does_not_say(proposed, expected):
    flags = claim_flags(proposed, SOURCE)
    assert [flag["text"] for flag in flags] == expected
    assert all(flag["reason"] == REASON == "not in your entry" for flag in flags)


def test_it_reads_the_source_from_several_texts():
    assert claim_flags("Shipped for Globex in 2023", ["A title", "Globex", "2023-06-01"]) == []


def test_it_lists_each_flagged_text_once_in_order():
    flags = claim_flags("Saved 70% at Globex, then 70% again at Globex", "Saved money")
    assert [flag["text"] for flag in flags] == ["70%", "Globex"]


def test_it_finds_claims_with_their_kinds_and_positions():
    text = "Saved $2M for Globex in Q3 2024, 40% faster"
    kinds = [(claim.kind, claim.text) for claim in claims_find(text)]
    assert kinds == [("money", "$2M"), ("name", "Globex"), ("date", "Q3 2024"), ("percent", "40%")]
    for claim in claims_find(text):
        assert text[claim.start : claim.end] == claim.text


def test_it_gives_the_spans_to_highlight():
    text = "At Globex, Globex and 70%"
    spans = flag_spans(text, [{"text": "Globex"}, {"text": "70%"}, {"text": ""}])
    assert [text[start:end] for start, end in spans] == ["Globex", "Globex", "70%"]


def test_it_accepts_an_empty_proposal_and_an_empty_source():
    assert claim_flags("", SOURCE) == []
    assert [flag["text"] for flag in claim_flags("Saved 40% at Globex", "")] == ["40%", "Globex"]
