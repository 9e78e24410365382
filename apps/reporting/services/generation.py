"""The jobs' work: writing a report, or one section of it, and saving the result as a version."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.billing import services as billing
from apps.billing.errors import InsufficientFunds
from apps.core.errors import ApplicationError, ValidationFailed
from apps.core.jobs import JobCancelled, job_check_cancelled, job_enqueue, job_progress, job_succeed
from apps.reporting import citations
from apps.reporting.generate import Writer
from apps.reporting.models import Report
from apps.reporting.services.reports import (
    current_sections,
    inputs_for,
    ready_check,
    refuse_unaffordable,
    report_estimate,
    report_url,
    report_version_save,
    section_find,
)

GENERATE_FAILED = "Writing the report stopped: {message}"

# -------------------------------------------------------------------------- generation


def _fail(report: Report, message: str) -> None:
    Report.objects.filter(pk=report.pk).update(
        status=Report.Status.FAILED, error=message, updated_at=timezone.now()
    )


def _progress(job):
    def report(done: int, total: int, step: str) -> None:
        job_check_cancelled(job)
        job_progress(job, done, total, step=step)

    return report


def _writer(report: Report, job) -> Writer:
    return Writer(
        inputs_for(report), job=job, progress=_progress(job), check=lambda: job_check_cancelled(job)
    )


def _record_run(report: Report, written) -> None:
    Report.objects.filter(pk=report.pk).update(
        cost_micros=F("cost_micros") + written.cost_micros,
        prompt_tokens=F("prompt_tokens") + written.prompt_tokens,
        completion_tokens=F("completion_tokens") + written.completion_tokens,
        provider=written.provider,
        model=written.model[:100],
        drafted_without_ai=written.drafted_without_ai,
        generation_notes=written.notes,
    )
    report.refresh_from_db()


def _guarded(report: Report, work):
    try:
        return work()
    except JobCancelled:
        _fail(report, "Cancelled before it finished; nothing was saved.")
        raise
    except ApplicationError as exc:
        _fail(report, GENERATE_FAILED.format(message=exc.message))
        raise
    except Exception:
        _fail(
            report,
            "Writing the report stopped on our side. Try again; nothing was charged for unfinished steps.",
        )
        raise


def report_generate(*, job, report_id: int) -> None:
    """The job's work: write the report, check it, save it as the next version (saved before it is shown)."""
    report = Report.objects.select_related("tenant", "created_by").get(pk=report_id, tenant=job.tenant)
    Report.objects.filter(pk=report.pk).update(status=Report.Status.GENERATING, error="")

    def work():
        written = _writer(report, job).write()
        job_check_cancelled(job)
        Report.objects.filter(pk=report.pk).update(
            selected_entry_ids=written.entry_ids, requirements=written.requirements
        )
        _record_run(report, written)
        report_version_save(report=report, sections=written.sections, note="Written", user=report.created_by)
        return written

    written = _guarded(report, work)
    used = len(citations.cited_ids(current_sections(report)))
    job_succeed(
        job,
        summary={
            "lines": [f"Wrote {report.title} from {len(written.entry_ids):,} entries; {used:,} are cited."],
            "next_label": "Open the report",
            "report_id": report.pk,
        },
    )


def report_section_regenerate(*, report: Report, key: str, user=None):
    """Queue rewriting one section from the report's entries (the rest stays as it is)."""
    ready_check(report)
    section_find(current_sections(report), key)
    inputs = inputs_for(report)
    est = report_estimate(inputs=inputs)
    try:
        refuse_unaffordable(est)
    except InsufficientFunds as exc:
        billing.reserve_refusal_record(tenant=report.tenant, refusal=exc)
        raise
    with transaction.atomic():
        job = job_enqueue(
            kind="report.section",
            tenant=report.tenant,
            user=user,
            func_path="apps.reporting.tasks.report_section_task",
            label=f"Rewriting a section of “{report.title}”",
            next_url=report_url(report),
            estimate_micros=est.estimate_micros,
            report_id=report.pk,
            section_key=key,
        )
        Report.objects.filter(pk=report.pk).update(status=Report.Status.GENERATING, job=job)
        report.status, report.job = Report.Status.GENERATING, job
    return job


def report_section_generate(*, job, report_id: int, section_key: str) -> None:
    """The job's work: new bullets for one section, saved as the next version."""
    report = Report.objects.select_related("tenant", "created_by").get(pk=report_id, tenant=job.tenant)

    def work():
        sections = current_sections(report)
        target = section_find(sections, section_key)
        written = _writer(report, job).write(
            section={"key": target["key"], "title": target["title"], "enabled": True}
        )
        job_check_cancelled(job)
        fresh = next((item for item in written.sections if item["key"] == section_key), None)
        if fresh is None:
            fresh = written.sections[0] if written.sections else {"bullets": []}
        target["bullets"] = fresh["bullets"]
        _record_run(report, written)
        report_version_save(
            report=report, sections=sections, note=f"Rewrote “{target['title']}”", user=job.created_by
        )

    try:
        _guarded(report, work)
    finally:
        # A failed rewrite leaves the report as it was: readable, at its last version.
        if report.version:
            Report.objects.filter(pk=report.pk, status=Report.Status.FAILED).update(
                status=Report.Status.READY
            )
    job_succeed(job, summary={"lines": ["The section was rewritten."], "next_label": "Open the report"})


def report_retry(*, report: Report, user=None) -> Report:
    """Run the report's last failed or cancelled job again (a new attempt, with new money keys)."""
    from apps.core.jobs import job_retry

    if report.job is None:
        raise ValidationFailed("This report has no job to run again; create it again.")
    job_retry(job=report.job, user=user)
    busy = Report.Status.QUEUED
    Report.objects.filter(pk=report.pk).update(status=busy, error="", updated_at=timezone.now())
    report.status, report.error = busy, ""
    return report


def report_job_cancelled(*, job) -> None:
    """A report's job was cancelled: a report with a saved version stays readable; one without is failed."""
    now = timezone.now()
    busy = [Report.Status.QUEUED, Report.Status.GENERATING]
    Report.objects.filter(job=job, status__in=busy, version__gt=0).update(
        status=Report.Status.READY, updated_at=now
    )
    Report.objects.filter(job=job, status__in=busy, version=0).update(
        status=Report.Status.FAILED, error="Cancelled before it finished; nothing was saved.", updated_at=now
    )
