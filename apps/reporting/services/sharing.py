"""Share links: unguessable, revocable, with an optional expiry and a view count."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from apps.core.errors import NotFound, ValidationFailed
from apps.core.events import emit_event
from apps.reporting.models import Report, ReportShare
from apps.reporting.services.reports import ready_check

# ------------------------------------------------------------------------------ sharing


def share_url(share: ReportShare) -> str:
    return reverse("reporting_shared", args=[share.token])


def _share_open(report: Report) -> ReportShare | None:
    return ReportShare.objects.filter(report=report, revoked_at__isnull=True).first()


@transaction.atomic
def report_share_create(*, report: Report, user=None, expires_in_days: int | None = None) -> ReportShare:
    """The report's read-only link (the open one, or a new unguessable one). Shareable reports only."""
    if not report.is_shareable:
        raise ValidationFailed(
            "Only shareable reports can be shared: this one is private and may contain confidential entries. "
            "Create a shareable report to share it.",
            field="audience",
        )
    ready_check(report)
    if expires_in_days is not None and (
        isinstance(expires_in_days, bool)
        or not isinstance(expires_in_days, int)
        or not 1 <= expires_in_days <= settings.REPORT_SHARE_MAX_DAYS
    ):
        raise ValidationFailed(
            f"A link lasts between 1 and {settings.REPORT_SHARE_MAX_DAYS} days.", field="expires_in_days"
        )
    now = timezone.now()
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None
    share = _share_open(report)
    if share is not None and share.expires_at and share.expires_at <= now:
        share.revoked_at = now
        share.save(update_fields=["revoked_at", "updated_at"])
        share = None
    if share is not None:
        if expires_in_days is not None:
            share.expires_at = expires_at
            share.save(update_fields=["expires_at", "updated_at"])
        return share
    try:
        with transaction.atomic():
            share = ReportShare.objects.create(
                tenant=report.tenant,
                report=report,
                token=secrets.token_urlsafe(32),
                expires_at=expires_at,
                created_by=user if getattr(user, "is_authenticated", False) else None,
            )
    except IntegrityError:
        share = _share_open(report)  # another request made it first
    emit_event("report.shared", tenant=report.tenant, actor=user, report=report.pk)
    return share


@transaction.atomic
def report_share_revoke(*, report: Report, user=None) -> int:
    """End the report's link for good (it then answers 404). Returns how many links were open."""
    count = ReportShare.objects.filter(report=report, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if count:
        emit_event("report.share_revoked", tenant=report.tenant, actor=user, report=report.pk)
    return count


def report_share_open(*, token: str) -> ReportShare:
    """The open, unexpired share with this token, its view counted; NotFound otherwise."""
    if not token or len(token) > 64:
        raise NotFound("This link does not exist or was revoked.")
    now = timezone.now()
    share = (
        ReportShare.objects.select_related("report", "report__tenant")
        .filter(token=token, revoked_at__isnull=True)
        .first()
    )
    if share is None or (share.expires_at and share.expires_at <= now) or not share.report.is_shareable:
        raise NotFound("This link does not exist, expired or was revoked.")
    if share.report.version == 0:
        raise NotFound("This report has no content yet.")
    ReportShare.objects.filter(pk=share.pk).update(view_count=F("view_count") + 1, last_viewed_at=now)
    share.view_count += 1
    return share
