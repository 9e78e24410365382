"""PDF through WeasyPrint (apps.core.pdf, the renderer receipts and statements use too), from the same HTML
print template the print view shows."""

from django.template.loader import render_to_string

from apps.core.pdf import html_to_pdf
from apps.reporting.exports import Outside


def print_html(view: Outside, *, for_pdf: bool = True) -> str:
    return render_to_string("reporting/print.html", {"view": view, "for_pdf": for_pdf})


def pdf_bytes(view: Outside) -> bytes:
    return html_to_pdf(print_html(view))
