"""The Import & export page: export the workspace as a ZIP (a job), import a file with a preview first.

The uploaded file is kept privately between the preview and the confirmation (its name is in the session);
confirming parses it again and imports all rows or none. A workspace ZIP and large files become a job.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import ApplicationError
from apps.core.jobs import job_enqueue, job_list
from apps.worklog.porting.forms import ImportForm
from apps.worklog.porting.importers import (
    CSV_COLUMNS,
    FORMATS,
    INLINE_ROWS_MAX,
    import_commit,
    import_preview,
    import_upload_discard,
    import_upload_open,
    import_upload_store,
)
from apps.worklog.tasks import EXPORT_KIND, IMPORT_KIND

PENDING_KEY = "worklog_pending_import"
ERRORS_SHOWN = 500
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
        "import_jobs": job_list(tenant=request.tenant, kinds=[IMPORT_KIND], limit=3),
        "csv_columns": CSV_COLUMNS,
    }
    return render(request, "worklog/porting/index.html", context, status=status)


def _pending_discard(request) -> None:
    pending = request.session.pop(PENDING_KEY, None)
    if pending:
        import_upload_discard(pending.get("name", ""))


@require_GET
def porting(request):
    return _page(request)


@require_GET
def porting_csv_template(request):
    response = HttpResponse(CSV_TEMPLATE, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="afterresume-import-template.csv"'
    return response


@require_POST
def porting_export(request):
    job = job_enqueue(
        kind=EXPORT_KIND,
        tenant=request.tenant,
        user=request.user,
        func_path="apps.worklog.tasks.worklog_export",
        label="Export of your work log",
        next_url=_url("porting"),
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
    name = ""
    try:
        name = import_upload_store(tenant=request.tenant, upload=upload)
        with import_upload_open(tenant=request.tenant, name=name) as handle:
            parsed = import_preview(tenant=request.tenant, fmt=fmt, handle=handle)
    except ApplicationError as exc:
        import_upload_discard(name)
        form.add_error(exc.field if exc.field in form.fields else "file", exc.message)
        return _page(request, form=form, status=400)
    token = ""
    if parsed.ok:
        token = get_random_string(24)
        request.session[PENDING_KEY] = {
            "token": token,
            "name": name,
            "format": fmt,
            "filename": upload.name[:200],
            "total": parsed.total,
        }
    else:
        import_upload_discard(name)
    context = {
        "parsed": parsed,
        "token": token,
        "filename": upload.name,
        "format_label": FORMATS[fmt],
        "errors_shown": parsed.errors[:ERRORS_SHOWN],
        "runs_as_job": fmt == "zip" or parsed.total > INLINE_ROWS_MAX,
    }
    return render(request, "worklog/porting/preview.html", context, status=200 if parsed.ok else 400)


@require_POST
def porting_import_commit(request):
    pending = request.session.get(PENDING_KEY)
    if not pending or request.POST.get("token") != pending.get("token"):
        messages.error(request, "There is no checked file waiting to be imported. Choose the file again.")
        return _page(request, status=400)
    request.session.pop(PENDING_KEY)
    fmt, name = pending["format"], pending["name"]
    if fmt == "zip" or pending["total"] > INLINE_ROWS_MAX:
        job = job_enqueue(
            kind=IMPORT_KIND,
            tenant=request.tenant,
            user=request.user,
            func_path="apps.worklog.tasks.worklog_import",
            label=f"Import of {pending['filename']}",
            next_url=reverse("worklog_timeline"),
            input_file=name,
            fmt=fmt,
        )
        return redirect("job_detail", pk=job.pk)
    try:
        with import_upload_open(tenant=request.tenant, name=name) as handle:
            counts = import_commit(tenant=request.tenant, user=request.user, fmt=fmt, handle=handle)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _page(request, status=exc.status_code if 400 <= exc.status_code < 500 else 400)
    finally:
        import_upload_discard(name)
    entries = counts["entries"]
    messages.success(request, f"Imported {entries:,} entr{'y' if entries == 1 else 'ies'}.")
    return redirect(reverse("worklog_timeline"))


@require_POST
def porting_import_cancel(request):
    _pending_discard(request)
    messages.info(request, "Import cancelled; nothing was imported.")
    return redirect("worklog_porting")
