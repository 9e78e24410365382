"""Exports: Markdown, PDF (WeasyPrint), DOCX (real Word styles) and JSON Resume (validated against the
published @jsonresume/schema), each charged once per report version and format on the report_export meter."""

import io
import json
from pathlib import Path

import jsonschema
import pytest
from django.urls import reverse
from docx import Document
from pypdf import PdfReader

from apps.billing import services as billing
from apps.billing.models import UsageEvent, UsageLine
from apps.reporting import services
from apps.reporting.models import Report
from apps.reporting.selectors import report_api

SCHEMA = Path(__file__).resolve().parents[2] / "node_modules" / "@jsonresume" / "schema" / "schema.json"
pytestmark = pytest.mark.usefixtures("funded")


@pytest.fixture
def report(alice_client, log, write_report) -> Report:
    _response, report = write_report(
        {"kind": "resume_bullets", "roles": {"Acme": "Staff engineer"}}, as_client=alice_client
    )
    report.refresh_from_db()
    assert report.status == Report.Status.READY
    return report


def _export(client, report, fmt):
    return client.get(f"/api/reports/{report.pk}/export/{fmt}/")


def _bullet_texts(report) -> list[str]:
    return [item["text"] for s in report_api(report=report)["sections"] for item in s["bullets"]]


def test_it_exports_markdown_with_plain_citation_markers_and_sources(alice_client, report, log):
    response = _export(alice_client, report, "md")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/markdown")
    assert response["Content-Disposition"].startswith('attachment; filename="resume-bullets')
    text = response.content.decode()
    for bullet in _bullet_texts(report):
        assert bullet in text
    assert f"[E{log['deploys'].pk}]" in text and "](/log/" not in text  # no links into the app
    assert "## Sources" in text and "## Acme — Staff engineer" in text


def test_it_exports_a_pdf_whose_text_has_the_bullets(alice_client, report):
    response = _export(alice_client, report, "pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.content)).pages
    )
    for bullet in _bullet_texts(report):
        assert " ".join(bullet.split()) in text, bullet
    assert "Acme — Staff engineer" in text


def test_it_exports_docx_with_word_headings_and_bullet_styles(alice_client, report):
    response = _export(alice_client, report, "docx")
    assert response.status_code == 200
    document = Document(io.BytesIO(response.content))
    styles = [(p.style.name, p.text) for p in document.paragraphs]
    assert ("Title", report.title) in styles
    assert ("Heading 1", "Acme — Staff engineer") in styles
    bullets = [text for style, text in styles if style == "List Bullet"]
    for bullet in _bullet_texts(report):
        assert any(text.startswith(bullet) for text in bullets), bullet
    assert document.core_properties.title == report.title


def test_it_exports_json_resume_that_validates_against_the_published_schema(alice_client, report, alice, log):
    response = _export(alice_client, report, "json-resume")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    resume = json.loads(response.content)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(
        resume
    )
    assert resume["basics"]["name"] == alice.name and resume["basics"]["email"] == alice.email
    acme, globex = resume["work"]
    assert (acme["name"], acme["position"]) == ("Acme", "Staff engineer")
    assert globex == {
        "name": "Globex",
        "highlights": ["Built the invoicing service in Go — invoices went out 2 days sooner"],
        "startDate": "2022-08-03",
        "endDate": "2022-08-03",
    }
    skills = {item["name"]: item["keywords"] for item in resume["skills"]}
    assert skills["Go"] == ["Billing"] and "Checkout" in skills["Python"]


def test_it_charges_one_report_export_per_version_and_format(alice_client, report, tenant):
    for _ in range(2):
        assert _export(alice_client, report, "pdf").status_code == 200
    assert _export(alice_client, report, "md").status_code == 200

    def charged():
        return list(
            UsageLine.objects.filter(tenant=tenant, meter="report_export").values_list(
                "cost_micros", flat=True
            )
        )

    assert charged() == [10_000, 10_000]  # $0.01 a file: the PDF once, however often, and the Markdown
    services.report_section_update(report=report, key="employer-acme", markdown="- Led the Checkout team")
    assert _export(alice_client, report, "pdf").status_code == 200  # a new version is a new file
    assert UsageEvent.objects.filter(tenant=tenant, idempotency_key=f"report:{report.pk}:v2:pdf").exists()
    assert len(charged()) == 3


def test_it_refuses_an_export_the_reserve_cannot_pay_for_with_a_top_up_link(alice_client, report, tenant):
    billing.reserve_deduct(tenant=tenant, amount_micros=5_000_000, idempotency_key="test:spend-it-all")
    response = _export(alice_client, report, "docx")
    assert response.status_code == 402
    body = response.json()
    assert body["extra"]["topup_url"] == reverse("billing_home") and body["extra"]["needed_micros"] == 10_000
    page = alice_client.get(reverse("reporting_export", args=[report.pk, "pdf"]))
    assert page.status_code == 402
    assert 'href="/billing/#top-up"' in page.content.decode() and "Top up" in page.content.decode()


def test_it_shows_a_print_view_and_rejects_unknown_formats(alice_client, report):
    page = alice_client.get(reverse("reporting_print", args=[report.pk]))
    assert page.status_code == 200 and "data-print" in page.content.decode()
    assert _bullet_texts(report)[0] in page.content.decode()
    assert _export(alice_client, report, "rtf").status_code == 400
