"""Word documents with real heading styles (Title, Heading 1) and the List Bullet style for bullets."""

import io

from docx import Document
from docx.shared import Pt

from apps.reporting.exports import Outside
from apps.reporting.render import markers


def docx_bytes(view: Outside) -> bytes:
    document = Document()
    document.core_properties.title = view.title
    document.core_properties.subject = view.subtitle
    document.styles["Normal"].font.size = Pt(11)
    document.add_heading(view.title, level=0)
    if view.subtitle:
        document.add_paragraph().add_run(view.subtitle).italic = True
    for section in view.sections:
        document.add_heading(section["title"], level=1)
        for item in section["bullets"]:
            paragraph = document.add_paragraph(style="List Bullet")
            paragraph.add_run(item["text"])
            cite = markers(item.get("citations") or [])
            if cite:
                run = paragraph.add_run(f" {cite}")
                run.font.size = Pt(8)
    for heading, items in view.appendix:
        if items:
            document.add_heading(heading, level=1)
            for text in items:
                document.add_paragraph(text, style="List Bullet")
    if view.sources:
        document.add_heading("Sources", level=1)
        for pk, row in view.sources.items():
            document.add_paragraph(
                f"[E{pk}] {row['title']} ({row['occurred_on'].isoformat()})", style="List Bullet"
            )
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
