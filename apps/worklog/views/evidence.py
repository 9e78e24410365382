from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import ApplicationError, NotFound
from apps.core.tenancy import require_tenant
from apps.worklog import selectors, services
from apps.worklog.forms import EvidenceLinkForm, EvidenceUploadForm
from apps.worklog.storage import evidence_file_response
from apps.worklog.views.common import entry_or_404, show_error
from apps.worklog.views.entries import entry_detail_page


def _evidence_or_404(request, pk: int):
    try:
        return selectors.evidence_get(tenant=require_tenant(request), pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _back_to_evidence(entry):
    return redirect(reverse("worklog_entry_detail", args=[entry.pk]) + "#evidence")


@require_POST
def evidence_upload(request, pk: int):
    """Attach files (several at once, from the file input or dropped on the drop zone)."""
    entry = entry_or_404(request, pk)
    form = EvidenceUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            added = services.evidence_add_files(
                entry=entry, actor=request.user, uploads=form.cleaned_data["files"]
            )
        except ApplicationError as exc:
            show_error(form, exc)
        else:
            names = ", ".join(f"“{piece.original_name}”" for piece in added)
            messages.success(request, f"Attached {names}.")
            return _back_to_evidence(entry)
    return entry_detail_page(request, entry, upload_form=form, status=400)


@require_POST
def evidence_link(request, pk: int):
    entry = entry_or_404(request, pk)
    form = EvidenceLinkForm(request.POST)
    if form.is_valid():
        try:
            services.evidence_add_link(entry=entry, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            show_error(form, exc)
        else:
            messages.success(request, "Link added.")
            return _back_to_evidence(entry)
    return entry_detail_page(request, entry, link_form=form, status=400)


@require_GET
def evidence_file(request, pk: int):
    """The file, for members of its workspace only: opened in the browser, or downloaded with ?download=1."""
    evidence = _evidence_or_404(request, pk)
    if not evidence.file:
        raise Http404("This evidence is a link, not a file.")
    return evidence_file_response(evidence, as_attachment=request.GET.get("download") == "1")


@require_POST
def evidence_delete(request, pk: int):
    evidence = _evidence_or_404(request, pk)
    entry = evidence.entry
    label = evidence.original_name or evidence.title or evidence.url
    services.evidence_delete(evidence=evidence, actor=request.user)
    messages.success(request, f"Removed “{label}”.")
    return _back_to_evidence(entry)
