"""The Import & export page: export the workspace as a ZIP (a job), import a file with a preview first.

The uploaded file is kept privately between the preview and the confirmation; the session names it (or the
job that checked it) with a one-time token. A small CSV or jrnl file is checked in the request; a ZIP and a
larger file are checked by a job whose page shows progress and then the same preview. Confirming imports
every row, or the good rows only when the person chose to skip the bad ones; a ZIP and a large file are
then imported by a job too.
"""

import contextlib
import io

from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import ApplicationError, Conflict
from apps.core.filenames import content_disposition, filename_clean
from apps.core.jobs import job_cancel, job_enqueue, job_input_discard, job_list
from apps.core.models import Job
from apps.core.tenancy import get_for_tenant_or_404
from apps.worklog.porting.forms import ImportForm
from apps.worklog.porting.importers import (
    CSV_COLUMNS,
    ERRORS_SHOWN,
    FORMATS,
    Preview,
    import_commit,
    import_runs_as_job,
    import_skipped_rows,
    import_start,
    import_upload_discard,
    import_upload_open,
)
from apps.worklog.tasks import (
    EXPORT_KIND,
    IMPORT_KIND,
    PREVIEW_KIND,
    import_summary_lines,
    skipped_rows_name,
    worklog_export_enqueue,
)

PENDING_KEY = "worklog_pending_import"
TOKEN_USED_FOR = 6 * 3600  # seconds a confirmation token is remembered, so a double submit imports once
CSV_TEMPLATE = (
    ",".join(CSV_COLUMNS) + "\r\n"
    "2025-03-14,Shipped the new billing page,Rebuilt checkout with HTMX.,Checkout conversion up,"
    'Acme,Payments,"Python; Django; HTMX",launch,false,false,,12,%,31,43\r\n'
    "2025-04-02,Proposed on-call rotation,,,Acme,Platform,Leadership,process,false,true,2025-06-01,,,,\r\n"
)


def _url(name: str) -> str:
    return reverse(f"worklog_{name}")


def _page(request, *, form: ImportForm | None = None, status: int = 200):
    context = {
        "form": form or ImportForm(),
        "export_jobs": job_list(tenant=request.tenant, kinds=[EXPORT_KIND], limit=1),
        "import_jobs": job_list(tenant=request.tenant, kinds=[IMPORT_KIND, PREVIEW_KIND], limit=3),
        "csv_columns": CSV_COLUMNS,
    }
    return render(request, "worklog/porting/index.html", context, status=status)


def _preview_job(request, pk: int) -> Job:
    return get_for_tenant_or_404(
        Job.objects.select_related("created_by"), tenant=request.tenant, pk=pk, kind=PREVIEW_KIND
    )


def _pending_discard(request) -> None:
    """Forget the file waiting for a confirmation and remove it (stopping the job still checking it)."""
    pending = request.session.pop(PENDING_KEY, None)
    if not pending:
        return
    if pending.get("job"):
        job = Job.objects.filter(tenant=request.tenant, pk=pending["job"], kind=PREVIEW_KIND).first()
        if job is not None:
            if job.can_cancel:
                with contextlib.suppress(Conflict):  # it finished meanwhile
                    job_cancel(job=job, user=request.user)
            job_input_discard(job)
    else:
        import_upload_discard(pending.get("name", ""))


def _preview_context(*, preview: Preview, pending: dict | None, filename: str, fmt: str, job: Job | None):
    return {
        "preview": preview,
        "parsed": preview,
        "token": pending["token"] if pending and preview.confirmable else "",
        "filename": filename,
        "format_label": FORMATS.get(fmt, fmt),
        "errors_shown": preview.errors[:ERRORS_SHOWN],
        "runs_as_job": import_runs_as_job(fmt=fmt, size=(pending or {}).get("size", 0), total=preview.total)
        or job is not None,
        "job": job,
        "skipped_url": (
            reverse("job_download", args=[job.pk])
            if job is not None and job.result_file
            else reverse("worklog_porting_import_skipped")
            if job is None and preview.can_skip
            else ""
        ),
    }


@require_GET
def porting(request):
    return _page(request)


@require_GET
def porting_csv_template(request):
    response = HttpResponse(CSV_TEMPLATE, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition("afterresume-import-template.csv")
    return response


@require_POST
def porting_export(request):
    job = worklog_export_enqueue(
        tenant=request.tenant, user=request.user, label="Export of your work log", next_url=_url("porting")
    )
    if request.headers.get("HX-Request"):
        return render(request, "core/partials/_job_status.html", {"job": job}, status=202)
    return redirect("job_detail", pk=job.pk)


@require_POST
def porting_import_preview(request):
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    _pending_discard(request)
    fmt, upload = form.cleaned_data["format"], form.cleaned_data["file"]
    filename = filename_clean(upload.name, default="upload")[:200]
    try:
        started = import_start(tenant=request.tenant, user=request.user, fmt=fmt, upload=upload)
    except ApplicationError as exc:
        form.add_error(exc.field if exc.field in form.fields else "file", exc.message)
        return _page(request, form=form, status=400)
    token = get_random_string(24)
    if started.parsed is None:
        try:
            job = job_enqueue(
                kind=PREVIEW_KIND,
                tenant=request.tenant,
                user=request.user,
                func_path="apps.worklog.tasks.worklog_import_preview",
                label=f"Checking {filename}",
                input_file=started.name,
                fmt=fmt,
                filename=filename,
            )
        except BaseException:
            import_upload_discard(started.name)
            raise
        Job.objects.filter(pk=job.pk).update(next_url=reverse("worklog_porting_import_job", args=[job.pk]))
        request.session[PENDING_KEY] = {
            "token": token,
            "job": job.pk,
            "format": fmt,
            "filename": filename,
            "size": upload.size,
        }
        return redirect("worklog_porting_import_job", pk=job.pk)
    preview = Preview.from_parsed(started.parsed)
    pending = None
    if preview.confirmable:
        pending = {
            "token": token,
            "name": started.name,
            "format": fmt,
            "filename": filename,
            "size": upload.size,
            "total": preview.total,
            "good": preview.good,
        }
        request.session[PENDING_KEY] = pending
    context = _preview_context(preview=preview, pending=pending, filename=filename, fmt=fmt, job=None)
    return render(request, "worklog/porting/preview.html", context, status=200 if preview.ok else 400)


@require_GET
def porting_import_job(request, pk: int):
    """The check of a file made by a job: its progress while it runs, then the preview to confirm."""
    job = _preview_job(request, pk)
    if request.headers.get("HX-Request"):
        if job.is_finished:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"  # the whole page changes: from progress to the preview
            return response
        return render(request, "worklog/porting/partials/_check_progress.html", {"job": job})
    fmt, filename = job.params.get("fmt", ""), job.params.get("filename", "")
    pending = request.session.get(PENDING_KEY)
    if not (pending and pending.get("job") == job.pk):
        pending = None
    context = {"job": job, "filename": filename, "format_label": FORMATS.get(fmt, fmt), "is_pending": pending}
    if job.status != Job.Status.SUCCEEDED or "preview" not in job.summary:
        return render(request, "worklog/porting/check_job.html", context)
    if not job.input_file:
        pending = None
    preview = Preview.from_json(job.summary["preview"])
    context.update(_preview_context(preview=preview, pending=pending, filename=filename, fmt=fmt, job=job))
    context["elsewhere"] = pending is None and preview.confirmable
    return render(request, "worklog/porting/preview.html", context, status=200)


@require_GET
def porting_import_skipped(request):
    """The rows of the waiting file that cannot be imported, with their problems, as a CSV to fix."""
    pending = request.session.get(PENDING_KEY)
    if not pending or pending.get("job") or not pending.get("name"):
        raise Http404("There is no checked file with skipped rows.")
    target = io.StringIO()
    try:
        import_skipped_rows(
            tenant=request.tenant,
            user=request.user,
            fmt=pending["format"],
            name=pending["name"],
            target=target,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("worklog_porting")
    response = HttpResponse(target.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition(skipped_rows_name(pending.get("filename", "")))
    response["Cache-Control"] = "private, no-store"
    return response


def _claim_token(token: str) -> bool:
    """True the first time a confirmation token is used: a second submit of the same form does nothing."""
    return cache.add(f"worklog-import-token:{token}", 1, timeout=TOKEN_USED_FOR)


@require_POST
def porting_import_commit(request):
    pending = request.session.get(PENDING_KEY)
    if not pending or request.POST.get("token") != pending.get("token") or not _claim_token(pending["token"]):
        messages.error(request, "There is no checked file waiting to be imported. Choose the file again.")
        return _page(request, status=400)
    skip_bad = request.POST.get("mode") == "skip"
    fmt = pending["format"]
    job = None
    if pending.get("job"):
        job = Job.objects.filter(tenant=request.tenant, pk=pending["job"], kind=PREVIEW_KIND).first()
        if job is None or job.status != Job.Status.SUCCEEDED or not job.input_file:
            request.session.pop(PENDING_KEY, None)
            messages.error(request, "The check of this file did not finish; choose the file again.")
            return _page(request, status=400)
        preview = Preview.from_json(job.summary["preview"])
        name = job.input_file.name
        # The file moves from the check to the import: taken once, so two confirmations cannot both use it.
        if not Job.objects.filter(pk=job.pk, input_file=name).update(input_file="", retryable=False):
            messages.error(request, "This file is already being imported.")
            return _page(request, status=400)
    else:
        name = pending["name"]
        preview = None
    request.session.pop(PENDING_KEY)
    total = preview.total if preview else pending["total"]
    good = preview.good if preview else pending["good"]
    if good != total and not skip_bad:
        import_upload_discard(name)
        messages.error(request, "Some rows have problems; fix them and upload the file again, or skip them.")
        return _page(request, status=400)
    expect_good = good if skip_bad else None
    if job is not None or import_runs_as_job(fmt=fmt, size=pending.get("size", 0), total=total):
        try:
            import_job = job_enqueue(
                kind=IMPORT_KIND,
                tenant=request.tenant,
                user=request.user,
                func_path="apps.worklog.tasks.worklog_import",
                label=f"Import of {pending['filename']}",
                next_url=reverse("worklog_timeline"),
                input_file=name,
                fmt=fmt,
                skip_bad=skip_bad,
                expect_good=expect_good,
            )
        except BaseException:
            import_upload_discard(name)
            raise
        return redirect("job_detail", pk=import_job.pk)
    try:
        with import_upload_open(tenant=request.tenant, name=name) as handle:
            counts = import_commit(
                tenant=request.tenant,
                user=request.user,
                fmt=fmt,
                handle=handle,
                skip_bad=skip_bad,
                expect_good=expect_good,
            )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _page(request, status=exc.status_code if 400 <= exc.status_code < 500 else 400)
    finally:
        import_upload_discard(name)
    messages.success(request, " ".join(import_summary_lines(counts)[:2]))
    return redirect(reverse("worklog_timeline"))


@require_POST
def porting_import_cancel(request):
    _pending_discard(request)
    messages.info(request, "Import cancelled; nothing was imported.")
    return redirect("worklog_porting")
