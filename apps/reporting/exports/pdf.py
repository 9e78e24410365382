"""PDF through WeasyPrint, from the same HTML print template the print view shows."""

from django.template.loader import render_to_string

from apps.reporting.exports import Outside


def print_html(view: Outside, *, for_pdf: bool = True) -> str:
    return render_to_string("reporting/print.html", {"view": view, "for_pdf": for_pdf})


def pdf_bytes(view: Outside) -> bytes:
    from weasyprint import HTML

    html = print_html(view)
    return HTML(string=html, base_url=None).write_pdf()
