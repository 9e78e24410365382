"""Pages of AI help on entries. Each view parses input, calls one service or selector, and renders.

On an entry: the assist panel (Improve -> the estimate and the provider -> a job with live progress -> the
field-by-field review), and the text history with restore. Elsewhere: improve many entries at once, the
review queue (keyboard: a accept, e edit, s skip, r reject) and the voice settings with a prompt preview.
Fragments answer HTMX; the same URLs work as plain forms without JavaScript.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.assist import selectors, services
from apps.assist.drafts import EntrySnapshot
from apps.assist.forms import ImproveFilterForm, VoiceForm, suggestion_decisions
from apps.assist.models import Suggestion
from apps.assist.prompts import improve_prompt_preview
from apps.assist.review import review_fields, review_skills
from apps.core.errors import ApplicationError, NotFound
from apps.core.input import parse_id
from apps.core.models import Job
from apps.core.responses import is_htmx
from apps.core.tenancy import require_tenant
from apps.llm.claims import claim_flags
from apps.llm.gateway import llm_provider_info
from apps.worklog import services as worklog_services
from apps.worklog.selectors import entry_recent
from apps.worklog.versions import entry_version_get
from apps.worklog.views.common import entry_or_404

QUEUE = "queue"


def _suggestion(request, pk: int) -> Suggestion:
    try:
        return selectors.suggestion_get(tenant=require_tenant(request), pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _toast(request, message: str, level: str = "success") -> str:
    return render_to_string(
        "core/partials/_toast_oob.html", {"message": message, "level": level}, request=request
    )


def _plural(count: int, word: str, many: str = "") -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


# ------------------------------------------------------------------ the panel


def panel_context(
    request, entry, *, state: str = "", job: Job | None = None, error: str = "", **extra
) -> dict:
    """What the assist panel on an entry shows, in one of: idle, confirm, running, stopped, review."""
    tenant = require_tenant(request)
    suggestion = extra.pop("suggestion", None) or selectors.suggestion_for_entry(tenant=tenant, entry=entry)
    running = (
        job
        if job is not None and not job.is_finished
        else selectors.improve_job_for_entry(tenant=tenant, entry=entry)
    )
    context = {"entry": entry, "provider": llm_provider_info(), "error": error, "job": job, **extra}
    if state == "confirm":
        context["plan"] = services.improve_plan(tenant=tenant, user=request.user, entries=[entry])
    elif running is not None:
        state, context["job"] = "running", running
    elif suggestion is not None:
        state = "review"
    elif job is not None and job.status in (Job.Status.FAILED, Job.Status.CANCELLED):
        state = "stopped"
    elif job is not None and job.status == Job.Status.SUCCEEDED:
        state = "done"
        context["made"] = selectors.suggestion_made_by_job(tenant=tenant, job=job, entry=entry)
    state = state or "idle"
    context["state"] = state
    if state == "review":
        context.update(
            review_context(
                suggestion, data=extra.get("data"), error=error, error_field=extra.get("error_field", "")
            )
        )
    return context


def review_context(
    suggestion: Suggestion, *, data=None, error: str = "", error_field: str = "", origin: str = ""
) -> dict:
    return {
        "suggestion": suggestion,
        "review_fields": review_fields(suggestion, data=data, error_field=error_field, error=error),
        "review_skills": review_skills(suggestion, data=data),
        "review_error": error if not error_field else "",
        "origin": origin,
    }


def _panel(request, entry, *, status: int = 200, **kwargs) -> HttpResponse:
    context = panel_context(request, entry, **kwargs)
    return render(request, "assist/partials/_entry_panel.html", context, status=status)


@require_GET
def entry_panel(request, pk: int):
    """The panel again (HTMX polls it while the entry's job runs; `job` names the job being watched)."""
    entry = entry_or_404(request, pk)
    job = None
    if (job_id := parse_id(request.GET.get("job"))) is not None:
        try:
            job = selectors.improve_job_get(tenant=require_tenant(request), pk=job_id)
        except NotFound as exc:
            raise Http404(exc.message) from exc
    return _panel(request, entry, job=job)


@require_http_methods(["GET", "POST"])
def entry_improve(request, pk: int):
    """GET: what improving the entry will do and cost. POST: start it (refused when the reserve can't pay)."""
    entry = entry_or_404(request, pk)
    if request.method == "GET":
        if is_htmx(request):
            return _panel(request, entry, state="confirm")
        return render(request, "assist/entry_improve.html", panel_context(request, entry, state="confirm"))
    try:
        job, _plan = services.improve_start(
            tenant=require_tenant(request),
            user=request.user,
            entries=[entry],
            next_url=reverse("worklog_entry_detail", args=[entry.pk]),
        )
    except ApplicationError as exc:
        if is_htmx(request):
            return _panel(request, entry, state="confirm", error=exc.message, status=exc.status_code)
        messages.error(request, exc.message)
        return redirect("worklog_entry_detail", pk=entry.pk)
    if is_htmx(request):
        return _panel(request, entry, job=job)
    messages.success(request, "Improving this entry. The suggestion appears here when it is ready.")
    return redirect("worklog_entry_detail", pk=entry.pk)


# -------------------------------------------------------------- the decisions


def _decided_message(suggestion: Suggestion) -> str:
    title = suggestion.entry.title[:60]
    if suggestion.status == Suggestion.Status.REJECTED:
        return f"Suggestion rejected; “{title}” stays as it was."
    applied = sum(1 for item in suggestion.fields if item.get("decision") in ("accepted", "edited"))
    parts = []
    if applied:
        parts.append(_plural(applied, "change"))
    if suggestion.accepted_skills:
        parts.append(_plural(len(suggestion.accepted_skills), "skill"))
    return f"Applied {' and '.join(parts)} to “{title}”. The previous text is kept in its history."


@require_POST
def suggestion_decide(request, pk: int):
    """Apply the person's choices (accept, edit, reject per field; skills), or reject it all."""
    suggestion = _suggestion(request, pk)
    origin = request.POST.get("origin", "")
    decisions = suggestion_decisions(request.POST, suggestion)
    try:
        if decisions.pop("reject", False):
            decided = services.suggestion_reject(suggestion=suggestion, actor=request.user)
        else:
            decided = services.suggestion_accept(suggestion=suggestion, actor=request.user, **decisions)
    except ApplicationError as exc:
        suggestion.refresh_from_db()
        return _decision_refused(request, suggestion, exc, origin=origin)
    decided.entry.refresh_from_db(fields=["title"])
    message = _decided_message(decided)
    if origin == QUEUE:
        if is_htmx(request):
            return _queue_card(request, extra=_toast(request, message))
        messages.success(request, message)
        return redirect(_queue_url(request, job=_queue_job(request)))
    messages.success(request, message)
    url = reverse("worklog_entry_detail", args=[decided.entry_id])
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url  # the whole entry page changed: load it fresh
        return response
    return redirect(url)


def _decision_refused(request, suggestion: Suggestion, exc: ApplicationError, *, origin: str) -> HttpResponse:
    """The review again with the person's choices and typed text kept, and the error where it belongs."""
    field = exc.field or exc.extra.get("field", "")
    if not suggestion.is_pending:
        if origin == QUEUE:
            return _queue_card(request, extra=_toast(request, exc.message, "error"), status=exc.status_code)
        return _panel(request, suggestion.entry, error=exc.message, status=exc.status_code)
    if origin == QUEUE:
        context = _queue_context(request, current=suggestion)
        context.update(
            review_context(suggestion, data=request.POST, error=exc.message, error_field=field, origin=QUEUE)
        )
        return render(request, "assist/partials/_queue_card.html", context, status=exc.status_code)
    return _panel(
        request,
        suggestion.entry,
        suggestion=suggestion,
        data=request.POST,
        error=exc.message,
        error_field=field,
        status=exc.status_code,
    )


@require_POST
def suggestion_check(request, pk: int):
    """Check an edited field again as it is typed: what in it is not in the entry."""
    suggestion = _suggestion(request, pk)
    group = request.POST.get("field", "")
    names = [
        item["name"]
        for item in suggestion.fields
        if item["name"] == group or (group == "metrics" and item["name"].startswith("metric_"))
    ]
    flags = []
    for name in names:
        flags += claim_flags(request.POST.get(f"edit_{name}", ""), suggestion.source_texts)
    return render(request, "assist/partials/_flags.html", {"flags": flags, "checked": True, "key": group})


# ------------------------------------------------------------------ versions


@require_POST
def version_restore(request, pk: int, version_pk: int):
    entry = entry_or_404(request, pk)
    try:
        version = entry_version_get(tenant=require_tenant(request), entry=entry, pk=version_pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    try:
        worklog_services.entry_version_restore(entry=entry, version=version, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Version restored. The text it replaced is kept in the history too.")
    return redirect(reverse("worklog_entry_detail", args=[entry.pk]) + "#history")


# -------------------------------------------------------------- many at once


def _selected_ids(request) -> list[int]:
    return [pk for pk in map(parse_id, request.POST.getlist("entry")) if pk is not None]


def _bulk_page(
    request, *, status: int = 200, error: str = "", selected: list[int] | None = None
) -> HttpResponse:
    tenant = require_tenant(request)
    form = ImproveFilterForm(request.GET or None)
    filters = form.filters()
    candidates = list(
        selectors.improve_candidates(tenant=tenant, filters=filters)[: selectors.BULK_LIMIT + 1]
    )
    more = len(candidates) > selectors.BULK_LIMIT
    candidates = candidates[: selectors.BULK_LIMIT]
    chosen = selected if selected is not None else [entry.pk for entry in candidates]
    entries = [entry for entry in candidates if entry.pk in set(chosen)]
    context = {
        "form": form,
        "filters": filters,
        "candidates": candidates,
        "selected": set(chosen),
        "more": more,
        "limit": selectors.BULK_LIMIT,
        "plan": services.improve_plan(tenant=tenant, user=request.user, entries=entries) if entries else None,
        "error": error,
        "query": request.GET.urlencode(),
        "pending": selectors.suggestion_pending_count(tenant=tenant),
    }
    return render(request, "assist/improve.html", context, status=status)


@require_http_methods(["GET", "POST"])
def bulk_improve(request):
    """Choose entries by the timeline's filters (or "no impact yet") and a selection; one job for all."""
    if request.method == "GET":
        return _bulk_page(request)
    tenant = require_tenant(request)
    ids = _selected_ids(request)
    entries = selectors.improve_entries(tenant=tenant, ids=ids)
    try:
        job, _plan = services.improve_start(
            tenant=tenant, user=request.user, entries=entries, next_url=reverse("assist_review")
        )
    except ApplicationError as exc:
        return _bulk_page(request, status=exc.status_code, error=exc.message, selected=ids)
    messages.success(
        request, f"Improving {_plural(len(entries), 'entry', 'entries')}. You can leave this page."
    )
    return redirect("job_detail", pk=job.pk)


@require_POST
def bulk_estimate(request):
    """The estimate for the entries ticked right now (HTMX, as the selection changes)."""
    tenant = require_tenant(request)
    entries = selectors.improve_entries(tenant=tenant, ids=_selected_ids(request))
    plan = services.improve_plan(tenant=tenant, user=request.user, entries=entries) if entries else None
    return render(request, "assist/partials/_bulk_plan.html", {"plan": plan})


# --------------------------------------------------------------- the queue


def _skipped(request) -> tuple[int, ...]:
    raw = request.POST.get("skip") if request.method == "POST" else request.GET.get("skip")
    ids = (parse_id(value.strip()) for value in (raw or "").split(","))
    return tuple(pk for pk in ids if pk is not None)[:500]


def _queue_job(request) -> Job | None:
    raw = request.POST.get("job") if request.method == "POST" else request.GET.get("job")
    if (job_id := parse_id(raw)) is None:
        return None
    try:
        return selectors.improve_job_get(tenant=require_tenant(request), pk=job_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _queue_url(request, *, job: Job | None, skip: tuple[int, ...] | None = None) -> str:
    params = {}
    if job is not None:
        params["job"] = job.pk
    skip = _skipped(request) if skip is None else skip
    if skip:
        params["skip"] = ",".join(str(pk) for pk in skip)
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return reverse("assist_review") + (f"?{query}" if query else "")


def _queue_context(request, *, current: Suggestion | None = None) -> dict:
    tenant = require_tenant(request)
    job, skip = _queue_job(request), _skipped(request)
    if current is None:
        current = selectors.suggestion_queue(tenant=tenant, job=job, skip=skip).first()
    total, left = selectors.suggestion_queue_counts(tenant=tenant, job=job, skip=skip)
    context = {
        "job": job,
        "skip": ",".join(str(pk) for pk in skip),
        "current": current,
        "total": total,
        "left": left,
        "skipped": total - left,
        "position": total - left + 1 if current else 0,
        "queue_url": _queue_url(request, job=job),
    }
    if current is not None:
        context.update(review_context(current, origin=QUEUE))
        context["skip_url"] = _queue_url(request, job=job, skip=(*skip, current.pk))
    return context


def _queue_card(request, *, extra: str = "", status: int = 200) -> HttpResponse:
    html = render_to_string("assist/partials/_queue_card.html", _queue_context(request), request=request)
    return HttpResponse(html + extra, status=status)


@require_GET
def review_queue(request):
    """The suggestions waiting for a decision, one at a time."""
    if is_htmx(request):
        message = ""
        if parse_id(request.GET.get("skipped")) is not None:
            message = "Skipped; it stays in the queue for later."
        return _queue_card(request, extra=_toast(request, message) if message else "")
    return render(request, "assist/review.html", _queue_context(request))


# --------------------------------------------------------------- voice


def _preview_snapshot(request) -> EntrySnapshot | None:
    recent = entry_recent(tenant=require_tenant(request), limit=1)
    return EntrySnapshot.of(recent[0]) if recent else None


@require_http_methods(["GET", "POST"])
def voice_settings(request):
    tenant = require_tenant(request)
    voice = selectors.voice_settings_get(tenant=tenant, user=request.user)
    status = 200
    if request.method == "POST":
        form = VoiceForm(request.POST)
        if form.is_valid():
            try:
                services.voice_settings_update(tenant=tenant, user=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, "Voice settings saved. Every new suggestion uses them.")
                return redirect("assist_voice")
        status = 400
        preview_voice = form.voice_preview(voice)
    else:
        form = VoiceForm(initial=VoiceForm.initial_for(voice))
        preview_voice = voice
    context = {
        "form": form,
        "provider": llm_provider_info(),
        "preview": improve_prompt_preview(preview_voice, _preview_snapshot(request)),
    }
    return render(request, "assist/voice.html", context, status=status)


@require_POST
def voice_preview(request):
    """The effective prompt for the settings as typed (nothing is saved)."""
    voice = selectors.voice_settings_get(tenant=require_tenant(request), user=request.user)
    preview = improve_prompt_preview(VoiceForm(request.POST).voice_preview(voice), _preview_snapshot(request))
    return render(request, "assist/partials/_prompt_preview.html", {"preview": preview})
