"""Report pages: list, create (with the live estimate), the report (citations, flags, coverage, sharing),
the section editor, versions, exports, the print view, and the public share page.

Views parse input, call one service and render; service errors become form errors or toasts.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.billing.errors import InsufficientFunds
from apps.core.errors import ApplicationError, NotFound
from apps.core.tenancy import require_tenant
from apps.llm.gateway import llm_provider_info
from apps.reporting import citations, kinds, selectors, services
from apps.reporting.exports import FORMAT_LABELS, FORMATS, outside_view
from apps.reporting.exports.pdf import print_html
from apps.reporting.forms import ReportForm, SectionEditForm, ShareForm
from apps.reporting.models import Report

NOINDEX = "noindex, nofollow, noarchive"


def _report(request, pk: int) -> Report:
    try:
        return selectors.report_get(tenant=require_tenant(request), pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _back(report: Report, anchor: str = ""):
    return redirect(reverse("reporting_detail", args=[report.pk]) + (f"#{anchor}" if anchor else ""))


def _show_error(form, exc: ApplicationError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


# ------------------------------------------------------------------------------ list


@require_GET
def report_list(request):
    reports = selectors.report_list(tenant=require_tenant(request))[:200]
    return render(request, "reporting/list.html", {"reports": reports, "kind_labels": kinds.KIND_LABELS})


# ---------------------------------------------------------------------------- create


def _estimate_context(request, form: ReportForm) -> dict:
    context = {"form": form, "provider": llm_provider_info(), "estimate": None, "error": ""}
    if form.is_valid():
        try:
            inputs = services.report_inputs_clean(
                tenant=require_tenant(request), **_inputs_only(form.service_fields())
            )
            context["estimate"] = services.report_estimate(inputs=inputs)
        except ApplicationError as exc:
            context["error"] = exc.message
    else:
        context["error"] = next(iter(form.errors.values()))[0] if form.errors else ""
    return context


def _inputs_only(fields: dict) -> dict:
    return {name: value for name, value in fields.items() if name != "title"}


@require_http_methods(["GET", "POST"])
def report_create(request):
    tenant = require_tenant(request)
    if request.method == "POST":
        form = ReportForm(request.POST, tenant=tenant)
        if form.is_valid():
            try:
                report = services.report_create(tenant=tenant, user=request.user, **form.service_fields())
            except InsufficientFunds as exc:
                _show_error(form, exc)
                context = _estimate_context(request, form)
                context["topup_url"] = exc.extra.get("topup_url") or reverse("billing_home")
                return render(request, "reporting/create.html", context, status=402)
            except ApplicationError as exc:
                _show_error(form, exc)
            else:
                messages.success(request, f"Writing “{report.title}”. It is saved before it is shown.")
                return redirect("reporting_detail", pk=report.pk)
        return render(request, "reporting/create.html", _estimate_context(request, form), status=400)
    initial = {"kind": request.GET.get("kind") if request.GET.get("kind") in kinds.KINDS else "self_review"}
    form = ReportForm(initial=initial, tenant=tenant)
    context = {"form": form, "provider": llm_provider_info(), "estimate": None, "error": ""}
    return render(request, "reporting/create.html", context)


@require_GET
def report_estimate(request):
    """The estimate panel of the create page, for what the form holds now (HTMX)."""
    form = ReportForm(request.GET, tenant=require_tenant(request))
    return render(request, "reporting/partials/_estimate.html", _estimate_context(request, form))


# ---------------------------------------------------------------------------- report


def _detail_context(request, report: Report, **extra) -> dict:
    page = selectors.report_page(report=report)
    return {
        "report": report,
        "page": page,
        "kind_label": kinds.report_label(report.kind, report.variant),
        "formats": [(fmt, FORMAT_LABELS[fmt]) for fmt in FORMATS],
        "share_form": ShareForm(),
        "share_url": request.build_absolute_uri(services.share_url(page.share)) if page.share else "",
        "reason_claim": citations.REASON_NOT_IN_SOURCES,
        **extra,
    }


@require_GET
def report_detail(request, pk: int):
    report = _report(request, pk)
    return render(request, "reporting/detail.html", _detail_context(request, report))


@require_GET
def report_status(request, pk: int):
    """The progress card while the report is written (HTMX polls it); once done, the page reloads."""
    report = _report(request, pk)
    if not report.is_busy:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "reporting/partials/_progress.html", {"report": report})


@require_POST
def report_retry(request, pk: int):
    report = _report(request, pk)
    try:
        services.report_retry(report=report, user=request.user)
        messages.success(request, "Writing the report again.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(report)


@require_POST
def report_rename(request, pk: int):
    report = _report(request, pk)
    try:
        services.report_rename(report=report, title=request.POST.get("title", ""), user=request.user)
        messages.success(request, "Renamed.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(report)


@require_POST
def report_delete(request, pk: int):
    report = _report(request, pk)
    title = report.title
    services.report_delete(report=report, user=request.user)
    messages.success(request, f"Deleted “{title}”; its share link no longer works.")
    return redirect("reporting_list")


# -------------------------------------------------------------------------- sections


@require_http_methods(["GET", "POST"])
def report_section_edit(request, pk: int, key: str):
    report = _report(request, pk)
    sections = services.current_sections(report)
    section = next((item for item in sections if item["key"] == key), None)
    if section is None:
        raise Http404("That section is not in the report.")
    if request.method == "POST":
        form = SectionEditForm(request.POST)
        if form.is_valid():
            try:
                services.report_section_update(
                    report=report,
                    key=key,
                    title=form.cleaned_data["title"],
                    markdown=form.cleaned_data["markdown"],
                    user=request.user,
                )
            except ApplicationError as exc:
                _show_error(form, exc)
            else:
                messages.success(
                    request, f"Saved “{form.cleaned_data['title']}” as version {report.version}."
                )
                return _back(report, f"section-{key}")
        status = 400
    else:
        form = SectionEditForm(
            initial={"title": section["title"], "markdown": citations.section_markdown(section)}
        )
        status = 200
    context = {"report": report, "section": section, "form": form, "preview": _preview(report, form)}
    return render(request, "reporting/section_edit.html", context, status=status)


def _preview(report: Report, form: SectionEditForm) -> dict:
    text = form.data.get("markdown") if form.is_bound else form.initial.get("markdown", "")
    bullets = citations.bullets_from_markdown(text or "")
    checked = citations.bullets_check(
        [{"key": "preview", "title": "", "bullets": bullets}],
        tenant=report.tenant,
        allowed=set(report.selected_entry_ids),
    )[0]["bullets"]
    facts = selectors.worklog_selectors.entry_report_facts(
        tenant=report.tenant, ids={pk for item in checked for pk in item["citations"]}
    )
    return {"bullets": checked, "facts": facts}


@require_POST
def report_section_preview(request, pk: int, key: str):
    report = _report(request, pk)
    form = SectionEditForm(request.POST)
    return render(
        request, "reporting/partials/_preview.html", {"report": report, "preview": _preview(report, form)}
    )


@require_POST
def report_section_regenerate(request, pk: int, key: str):
    report = _report(request, pk)
    try:
        services.report_section_regenerate(report=report, key=key, user=request.user)
        messages.success(request, "Rewriting the section; the rest of the report stays as it is.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(report, f"section-{key}")


@require_POST
def report_arrange(request, pk: int):
    report = _report(request, pk)
    keys = request.POST.getlist("section_key")
    titles = dict(zip(keys, request.POST.getlist("section_title"), strict=False))
    try:
        services.report_sections_arrange(
            report=report,
            order=keys,
            titles=titles,
            enabled=set(request.POST.getlist("section_on")),
            user=request.user,
        )
        messages.success(request, f"Sections arranged; saved as version {report.version}.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(report)


@require_POST
def report_claim_remove(request, pk: int, key: str, index: int):
    report = _report(request, pk)
    claim = request.POST.get("claim", "")
    try:
        services.report_claim_remove(report=report, key=key, index=index, claim=claim, user=request.user)
        messages.success(request, f"Removed “{claim}”; saved as version {report.version}.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(report, f"section-{key}")


# -------------------------------------------------------------------------- versions


@require_GET
def report_versions(request, pk: int):
    report = _report(request, pk)
    versions = list(selectors.version_list(report=report))
    diff, old, new = [], None, None
    if len(versions) > 1:
        try:
            new = int(request.GET.get("to") or versions[0].number)
            old = int(request.GET.get("from") or max(new - 1, 1))
            diff = selectors.version_diff(report=report, old=old, new=new)
        except (ValueError, NotFound):
            messages.error(request, "Pick two versions that exist to compare.")
            old, new, diff = versions[1].number, versions[0].number, []
    context = {"report": report, "versions": versions, "diff": diff, "old": old, "new": new}
    return render(request, "reporting/versions.html", context)


@require_POST
def report_version_restore(request, pk: int, number: int):
    report = _report(request, pk)
    try:
        services.report_version_restore(report=report, number=number, user=request.user)
        messages.success(request, f"Restored version {number} as version {report.version}.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("reporting_versions", pk=report.pk)
    return _back(report)


# ---------------------------------------------------------------------------- exports


@require_GET
def report_export(request, pk: int, fmt: str):
    report = _report(request, pk)
    if fmt not in FORMATS:
        raise Http404("No such export format.")
    try:
        exported = services.report_export(report=report, fmt=fmt, user=request.user)
    except ApplicationError as exc:
        status = exc.status_code if 400 <= exc.status_code < 500 else 400
        context = _detail_context(
            request,
            report,
            export_error=exc.message,
            topup_url=exc.extra.get("topup_url", "") if isinstance(exc, InsufficientFunds) else "",
        )
        return render(request, "reporting/detail.html", context, status=status)
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def report_print(request, pk: int):
    report = _report(request, pk)
    if report.version == 0:
        raise Http404("This report has no content yet.")
    response = HttpResponse(print_html(outside_view(report), for_pdf=False))
    response["X-Robots-Tag"] = NOINDEX
    return response


# ---------------------------------------------------------------------------- sharing


@require_POST
def report_share(request, pk: int):
    report = _report(request, pk)
    form = ShareForm(request.POST)
    expires = form.cleaned_data.get("expires_in_days") if form.is_valid() else None
    try:
        services.report_share_create(report=report, user=request.user, expires_in_days=expires)
        messages.success(request, "Share link ready: anyone with it can read this report, signed out.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(report, "share")


@require_POST
def report_share_revoke(request, pk: int):
    report = _report(request, pk)
    if services.report_share_revoke(report=report, user=request.user):
        messages.success(request, "Link revoked: it now answers “not found”.")
    else:
        messages.info(request, "There was no open link to revoke.")
    return _back(report, "share")


@login_not_required
@require_GET
def report_shared(request, token: str):
    """The public, read-only page of a share link. No sign-in; never indexed; no links into the app."""
    try:
        share = services.report_share_open(token=token)
    except NotFound as exc:
        response = render(request, "404.html", {"message": exc.message}, status=404)
        response["X-Robots-Tag"] = NOINDEX
        return response
    view = outside_view(share.report)
    html = render_to_string("reporting/shared.html", {"view": view, "share": share}, request=request)
    response = HttpResponse(html)
    response["X-Robots-Tag"] = NOINDEX
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
