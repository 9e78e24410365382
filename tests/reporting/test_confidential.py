"""Confidential never leaks: a shareable report, exported to every format and opened through its share
link, contains no byte of the confidential entry's title or numbers — and the check is made again at
render time, so an entry made confidential later, or an edit that names it, stays out too."""

import io
import re

import pytest
from django.urls import reverse
from docx import Document
from pypdf import PdfReader

from apps.reporting import services
from apps.reporting.exports import FORMATS
from apps.reporting.selectors import report_api
from apps.worklog import services as worklog
from tests.reporting.conftest import SECRET_NUMBERS, SECRET_TITLE

pytestmark = pytest.mark.usefixtures("funded")
NEEDLES = [SECRET_TITLE, "Zephyrine", *SECRET_NUMBERS, "4.7", "1234", "83 %"]
WORD_NEEDLES = [needle for needle in NEEDLES if not any(char.isdigit() for char in needle)]


def _texts(fmt: str, content: bytes) -> list[str]:
    """Every way to read the file: its raw bytes, and for PDF and DOCX the text a reader extracts."""
    texts = [content.decode("latin-1"), content.decode("utf-8", "replace")]
    if fmt == "pdf":
        # A PDF's raw bytes are full of layout numbers ("134.7 Td"), so its numbers are read from the text
        # a reader extracts; the raw bytes are still searched for the words.
        texts = [RawPdf(text) for text in texts]
        texts.append(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))
    if fmt == "docx":
        document = Document(io.BytesIO(content))
        texts.append("\n".join(p.text for p in document.paragraphs))
        texts.append(document.core_properties.title + document.core_properties.subject)
    return texts


class RawPdf(str):
    """A PDF's raw bytes as text: searched for the words among the needles only."""


def _assert_clean(texts: list[str], where: str) -> None:
    for text in texts:
        folded = re.sub(r"\s+", " ", text).casefold()
        needles = WORD_NEEDLES if isinstance(text, RawPdf) else NEEDLES
        for needle in needles:
            assert needle.casefold() not in folded, f"{needle!r} leaked into {where}"


def _everything(client, report) -> dict[str, list[str]]:
    found = {}
    api = client.get(f"/api/reports/{report.pk}/")
    found["api"] = [api.content.decode()]
    for fmt in FORMATS:
        response = client.get(f"/api/reports/{report.pk}/export/{fmt}/")
        assert response.status_code == 200, fmt
        found[fmt] = _texts(fmt, response.content)
    share = client.post(f"/api/reports/{report.pk}/share/", {}, content_type="application/json").json()["url"]
    found["share url"] = [share]
    client.logout()
    page = client.get(share)
    assert page.status_code == 200
    found["share page"] = [page.content.decode()]
    return found


@pytest.mark.parametrize(
    "kind", ["self_review", "brag_document", "resume_bullets", "summary", "tailored_resume"]
)
def test_it_keeps_the_confidential_entry_out_of_every_byte_of_a_shareable_report(
    client, alice, log, write_report, kind
):
    client.force_login(alice)
    payload = {"kind": kind, "audience": "shareable", "job_description": "- Python\n- Retention of accounts"}
    _response, report = write_report(payload, as_client=client)
    report.refresh_from_db()
    assert log["secret"].pk not in report.selected_entry_ids
    for where, texts in _everything(client, report).items():
        _assert_clean(texts, where)


def test_it_puts_the_confidential_entry_in_the_same_report_when_private(alice_client, log, write_report):
    """The needles are real: a private report carries the confidential entry (so the test above can fail)."""
    _response, report = write_report({"kind": "brag_document"}, as_client=alice_client)
    text = alice_client.get(f"/api/reports/{report.pk}/export/md/").content.decode()
    assert SECRET_TITLE in text and "$4.7M" in text


def test_it_withholds_at_render_time_what_became_confidential_or_names_a_confidential_entry(
    client, alice, log, write_report
):
    client.force_login(alice)
    _response, report = write_report({"kind": "brag_document", "audience": "shareable"}, as_client=client)
    report.refresh_from_db()
    cited = {
        c for s in report_api(report=report)["sections"] for item in s["bullets"] for c in item["citations"]
    }
    assert log["deploys"].pk in cited
    worklog.entry_update(entry=log["deploys"], actor=alice, confidential=True)  # after the report was written
    services.report_section_update(
        report=report,
        key="what_i_learned",
        markdown=f"- Finished a course on distributed systems [E{log['course'].pk}]\n"
        f"- Helped with {SECRET_TITLE.lower()} [E{log['course'].pk}]\n"
        f"- Kept 83% of accounts [E{log['course'].pk}]",
    )
    page = client.get(reverse("reporting_detail", args=[report.pk])).content.decode()
    assert "3 bullets are kept out of exports and the share link" in page
    NEEDLES.append("Cut deploy time from 40 to 8 minutes")
    try:
        found = _everything(client, report)
        for where, texts in found.items():
            if where != "api":  # the owner's own API view shows the owner everything
                _assert_clean(texts, where)
        assert "Finished a course on distributed systems" in found["share page"][0]
    finally:
        NEEDLES.pop()
