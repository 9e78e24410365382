"""HTML to PDF through WeasyPrint, for any app's print template (receipts, statements).

The HTML is self-contained (inline styles, no external resources), so no base URL is given and WeasyPrint
fetches nothing. Report exports (apps/reporting/exports/pdf.py) call it too.
"""

from django.template.loader import render_to_string


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # heavy import, only when a PDF is made

    return HTML(string=html, base_url=None).write_pdf()


def template_to_pdf(template_name: str, context: dict) -> bytes:
    return html_to_pdf(render_to_string(template_name, context))
