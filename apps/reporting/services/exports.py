"""Export files, charged on the rate card's `report_export` meter.

One charge per file: the usage key is the report, its version and the format, so downloading the same
version in the same format again is not charged again, and an edited report (a new version) is a new file.
The file is built first and charged second: a file that could not be built costs nothing; a charge the
reserve refuses (block policy) is a 402 with a top-up link and no file.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.text import slugify

from apps.billing import services as billing
from apps.billing.errors import InsufficientFunds
from apps.billing.models import Meter
from apps.core.errors import ValidationFailed
from apps.core.events import emit_event
from apps.reporting.exports import FORMATS, export_build, outside_view
from apps.reporting.models import Report
from apps.reporting.services.reports import ready_check


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str
    content_type: str
    charged_micros: int


def export_key(report: Report, fmt: str) -> str:
    return f"report:{report.pk}:v{report.version}:{fmt}"


def report_export(*, report: Report, fmt: str, user=None) -> ExportFile:
    if fmt not in FORMATS:
        raise ValidationFailed(f"Export as one of: {', '.join(FORMATS)}.", field="format")
    ready_check(report)
    view = outside_view(report)
    content = export_build(view, fmt, person=report.created_by or user)
    content_type, extension = FORMATS[fmt]
    try:
        event = billing.usage_record(
            tenant=report.tenant,
            quantities={Meter.REPORT_EXPORT: 1},
            idempotency_key=export_key(report, fmt),
            job_reference=f"report:{report.pk}",
        )
    except InsufficientFunds as exc:
        exc.extra.setdefault("topup_url", reverse("billing_home"))
        exc.message = f"Exporting costs one report export on the rate card. {exc.message}"
        exc.args = (exc.message,)
        raise
    emit_event(
        "report.exported",
        tenant=report.tenant,
        actor=user,
        report=report.pk,
        version=report.version,
        format=fmt,
    )
    name = slugify(view.title)[:80] or "report"
    return ExportFile(
        content=content,
        filename=f"{name}-v{report.version}.{extension}",
        content_type=content_type,
        charged_micros=event.cost_micros,
    )
