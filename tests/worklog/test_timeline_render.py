"""The timeline's rows are precomputed per entry (dates, URL, chips, flags) instead of being worked out by
the template on every row. The HTML must stay what it was: these tests render fixed data and compare it with
files written from the template before the change (tests/worklog/golden/), ids and cursors normalised.
Since each entry's list item is written in Python (views/rows.py, entry_row_html), the files hold its
output, which equals the template's but for blank lines (compared with runs of whitespace collapsed).

Regenerate (only when a change of the page is intended) with
`WORKLOG_WRITE_GOLDEN=1 .venv/bin/python -m pytest tests/worklog/test_timeline_render.py`.
"""

import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection

from apps.worklog import services
from tests.worklog.conftest import htmx

GOLDEN = Path(__file__).parent / "golden"
WRITE = os.environ.get("WORKLOG_WRITE_GOLDEN") == "1"


def fixed_log(tenant, alice) -> None:
    """40 entries over three months with every kind of row content the timeline shows."""
    start = date(2025, 1, 6)
    for number in range(40):
        day = start + timedelta(days=number * 2 + (number % 3))
        fields = {
            "occurred_on": day,
            "employer": ["Acme", "Globex", ""][number % 3],
            "project": ["Atlas", "", "Hub", "Quartz"][number % 4],
            "skills": [["Python", "SQL"], ["Go"], []][number % 3],
            "tags": [["launch"], [], ["ci", "cost"]][number % 3],
            "confidential": number % 7 == 0,
        }
        if number % 5 == 0:
            fields["impact"] = f"Cut the <build> time by {number}% " + "and kept it there. " * 20
        elif number % 5 == 1:
            fields["body"] = f"Paired on the **migration** & the rollout, step {number}. " * 8
        if number % 9 == 0:
            fields.update(outcome_pending=True, follow_up_on=day + timedelta(days=30))
        verb = ["fix", "ship", "plan"][number % 3]
        entry = services.entry_create(
            tenant=tenant, author=alice, title=f"Entry {number:02d} <{verb}> & co", **fields
        )
        if number % 4 == 0:
            services.evidence_add_link(entry=entry, actor=alice, url=f"https://example.com/{number}")
        if number % 8 == 0:
            services.evidence_add_link(entry=entry, actor=alice, url=f"https://example.com/{number}/b")


def normalise(html: str) -> str:
    html = re.sub(r"entry-\d+", "entry-ID", html)
    html = re.sub(r"/log/entries/\d+/", "/log/entries/ID/", html)
    html = re.sub(r"cursor=[A-Za-z0-9_-]+", "cursor=CURSOR", html)
    return html


def compare(name: str, html: str) -> None:
    path = GOLDEN / name
    html = normalise(html)
    if WRITE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(html)
    assert html == path.read_text()


@pytest.fixture
def log(tenant, alice):
    fixed_log(tenant, alice)


def test_it_renders_the_first_page_as_before(alice_client, log):
    response = alice_client.get("/log/", **htmx())
    assert response.status_code == 200
    compare("timeline_first_page.html", response.content.decode())


def test_it_renders_the_next_page_as_before(alice_client, log):
    first = alice_client.get("/log/", **htmx()).content.decode()
    next_url = first.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    response = alice_client.get(next_url, **htmx())
    assert response.status_code == 200
    compare("timeline_next_page.html", response.content.decode())


def test_it_renders_a_filtered_page_as_before(alice_client, log):
    response = alice_client.get("/log/?employer=acme&skill=python&since=2025-01-20", **htmx())
    assert response.status_code == 200
    compare("timeline_filtered.html", response.content.decode())


@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="the golden search rows are the SQLite fallback's"
)
def test_it_renders_search_rows_as_before(alice_client, log):
    page = alice_client.get("/log/?q=migration", **htmx()).content.decode()
    rows = page[page.index('<ol class="ar-timeline') : page.index("</ol>") + 5]
    compare("timeline_search_rows.html", rows)
