from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404, HttpResponse, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import ApplicationError
from apps.core.filenames import content_disposition
from apps.core.jobs import job_cancel, job_retry
from apps.core.models import Job
from apps.core.responses import is_htmx
from apps.core.tenancy import get_for_tenant_or_404


@login_not_required
def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


@login_not_required
def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


@login_not_required
def server_error(request):
    # No request context: the failure may have come from a context processor or the database.
    return HttpResponseServerError(loader.get_template("500.html").render())


@login_not_required
def favicon(request):
    return redirect(static("img/favicon.svg"), permanent=True)


@require_GET
def job_detail(request, pk: int):
    """A job's status page; HTMX polls it for the status partial until the job has finished."""
    job = get_for_tenant_or_404(Job.objects.select_related("created_by"), tenant=request.tenant, pk=pk)
    if request.headers.get("HX-Request"):
        return render(request, "core/partials/_job_status.html", {"job": job})
    return render(request, "core/job_detail.html", {"job": job})


def _job_action(request, pk: int, action, done: str):
    """Run `action` on the job; HTMX gets the job's fresh status plus a toast, a plain form a redirect."""
    job = get_for_tenant_or_404(Job.objects.select_related("created_by"), tenant=request.tenant, pk=pk)
    try:
        job = action(job=job, user=request.user)
        message, level = done, "success"
    except ApplicationError as exc:
        job.refresh_from_db()
        message, level = exc.message, "error"
    if not is_htmx(request):
        getattr(messages, level)(request, message)
        return redirect("job_detail", pk=job.pk)
    html = render_to_string("core/partials/_job_status.html", {"job": job}, request=request)
    toast = render_to_string(
        "core/partials/_toast_oob.html", {"message": message, "level": level}, request=request
    )
    return HttpResponse(html + toast)


@require_POST
def job_cancel_view(request, pk: int):
    return _job_action(request, pk, job_cancel, "Job cancelled. Nothing more will be charged for it.")


@require_POST
def job_retry_view(request, pk: int):
    return _job_action(request, pk, job_retry, "Job queued to run again.")


@require_GET
def job_download(request, pk: int):
    """The job's result file, only for members of the job's workspace."""
    job = get_for_tenant_or_404(Job.objects, tenant=request.tenant, pk=pk)
    if job.status != Job.Status.SUCCEEDED or not job.result_file:
        raise Http404("This job has no file to download.")
    try:
        handle = job.result_file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file of this job is no longer kept.") from exc
    response = FileResponse(handle, content_type=job.result_content_type or "application/octet-stream")
    # The name may come from a person's upload: built by the one helper that keeps a header intact.
    response["Content-Disposition"] = content_disposition(job.result_name, as_attachment=True)
    response["Cache-Control"] = "private, no-store"
    return response
