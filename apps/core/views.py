from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from apps.core.models import Job
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
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=job.result_name or "download",
        content_type=job.result_content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    return response
