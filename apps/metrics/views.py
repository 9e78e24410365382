"""Staff pages: /staff/metrics/ (how the business is doing) and /staff/system/ (whether anything is broken).

Everyone but staff gets 404 (`staff_required`). Each view parses its input, calls a selector or one
service, and renders. HTMX requests get the part of the page they refresh; an action answers with the
refreshed part and a toast.
"""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.core.decorators import staff_required
from apps.core.errors import ApplicationError
from apps.core.jobs import job_cancel, job_retry
from apps.core.responses import is_htmx
from apps.metrics import health, selectors, services
from apps.metrics.charts import CHARTS_BY_KEY, chart_csv
from apps.metrics.forms import PRESETS, EventFilterForm, RangeForm, encode_cursor

DASHBOARD_REFRESH_SECONDS = 60
SYSTEM_REFRESH_SECONDS = 30


def _toast(request, message: str, level: str = "success") -> str:
    return render_to_string(
        "core/partials/_toast_oob.html", {"message": message, "level": level}, request=request
    )


# --------------------------------------------------------------------------------------------- metrics


def _dashboard_context(request) -> dict:
    form = RangeForm(request.GET or None)
    since, until, granularity = form.range()
    dashboard = selectors.dashboard_get(since=since, until=until, granularity=granularity)
    today = services.metrics_today()
    range_query = urlencode({"since": since, "until": until, "granularity": granularity})
    presets = []
    for days in PRESETS:
        start = today - timedelta(days=days - 1)
        query = urlencode({"since": start, "until": today, "granularity": granularity})
        presets.append({"days": days, "query": query, "active": (since, until) == (start, today)})
    return {
        "form": form,
        "dashboard": dashboard,
        "presets": presets,
        "range_query": range_query,
        "refresh_seconds": DASHBOARD_REFRESH_SECONDS,
        "today": today,
        "zone": services.metrics_zone(),
    }


@staff_required
@require_GET
def dashboard(request):
    context = _dashboard_context(request)
    if is_htmx(request):
        return render(request, "metrics/partials/_dashboard_body.html", context)
    return render(request, "metrics/dashboard.html", context)


@staff_required
@require_POST
def dashboard_refresh(request):
    """Compute today and yesterday again now, instead of waiting for the schedule."""
    services.snapshot_recent()
    if not is_htmx(request):
        messages.success(request, "Today and yesterday were computed again.")
        return redirect(f"{reverse('metrics_dashboard')}?{request.GET.urlencode()}")
    context = _dashboard_context(request)
    html = render_to_string("metrics/partials/_dashboard_body.html", context, request=request)
    return HttpResponse(html + _toast(request, "Today and yesterday were computed again."))


@staff_required
@require_GET
def chart_download(request, key: str):
    """Exactly the data behind one chart, for the range and grouping shown."""
    chart = CHARTS_BY_KEY.get(key)
    if chart is None:
        raise Http404("No such chart.")
    since, until, granularity = RangeForm(request.GET or None).range()
    dashboard = selectors.dashboard_get(since=since, until=until, granularity=granularity)
    data = next(item for item in dashboard.charts if item.chart.key == key)
    response = HttpResponse(chart_csv(data), content_type="text/csv; charset=utf-8")
    name = f"afterresume-{key}-{since:%Y%m%d}-{until:%Y%m%d}-{granularity}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------------------------- system


def _jobs_context() -> dict:
    return {"jobs": selectors.jobs_overview()}


def _webhooks_context() -> dict:
    return {"webhooks": selectors.webhooks_failed()}


def _reconcile_context() -> dict:
    newest, finished = selectors.reconcile_latest()
    return {"reconcile_newest": newest, "reconcile": finished}


@staff_required
@require_GET
def system(request):
    context = {
        **_jobs_context(),
        **_webhooks_context(),
        **_reconcile_context(),
        "refresh_seconds": SYSTEM_REFRESH_SECONDS,
    }
    return render(request, "metrics/system.html", context)


@staff_required
@require_GET
def system_health(request):
    """The health checks, loaded after the page (the network checks may take a few seconds)."""
    checks = health.system_checks()
    queue = next((check.facts.get("info") for check in checks if check.key == "queue"), None)
    context = {"checks": checks, "queue": queue, "checked_at": timezone.now()}
    return render(request, "metrics/partials/_health.html", context)


@staff_required
@require_GET
def system_jobs(request):
    return render(request, "metrics/partials/_jobs.html", _jobs_context())


@staff_required
@require_GET
def system_webhooks(request):
    return render(request, "metrics/partials/_webhooks.html", _webhooks_context())


@staff_required
@require_GET
def system_reconcile(request):
    return render(request, "metrics/partials/_reconcile.html", _reconcile_context())


def _action(request, template: str, context_of, action, done) -> HttpResponse:
    """Run `action()`; answer with the refreshed section and a toast saying what happened (or why not)."""
    try:
        message = done(action())
        level = "success"
    except ApplicationError as exc:
        message, level = exc.message, "error"
    if not is_htmx(request):
        getattr(messages, level)(request, message)
        return redirect("metrics_system")
    html = render_to_string(template, context_of(), request=request)
    return HttpResponse(html + _toast(request, message, level))


def _staff_job(pk: int):
    job = selectors.job_for_staff(pk=pk)
    if job is None:
        raise Http404("No such job.")
    return job


@staff_required
@require_POST
def job_retry_view(request, pk: int):
    job = _staff_job(pk)
    return _action(
        request,
        "metrics/partials/_jobs.html",
        _jobs_context,
        lambda: job_retry(job=job, user=request.user),
        lambda job: f"Job #{job.pk} is queued to run again.",
    )


@staff_required
@require_POST
def job_cancel_view(request, pk: int):
    job = _staff_job(pk)
    return _action(
        request,
        "metrics/partials/_jobs.html",
        _jobs_context,
        lambda: job_cancel(job=job, user=request.user),
        lambda job: f"Job #{job.pk} is cancelled; what it held is released. It can be run again.",
    )


REPLAY_MESSAGES = {
    "processed": "Event {id} was applied.",
    "ignored": "Event {id} was recorded as not ours to act on; nothing changed.",
    "rejected": "Event {id} still does not match our records, so nothing was credited.",
    "duplicate": "Event {id} had already been applied meanwhile; nothing was applied twice.",
}


@staff_required
@require_POST
def webhook_replay(request, pk: int):
    event_id = {"id": f"#{pk}"}

    def replay():
        outcome = services.stripe_event_replay(event_pk=pk, actor=request.user)
        return REPLAY_MESSAGES.get(outcome, "Event {id}: " + outcome).format(**event_id)

    return _action(request, "metrics/partials/_webhooks.html", _webhooks_context, replay, lambda text: text)


@staff_required
@require_POST
def reconcile_request(request):
    return _action(
        request,
        "metrics/partials/_reconcile.html",
        _reconcile_context,
        lambda: services.reconcile_request(actor=request.user),
        lambda run: "Reconciliation queued; the result shows here when the worker has checked every reserve.",
    )


# ------------------------------------------------------------------------------------------- event log


@staff_required
@require_GET
def event_list(request):
    form = EventFilterForm(request.GET or None)
    page = None
    if not form.is_bound or form.is_valid():
        filters = form.filters() if form.is_bound else selectors.EventFilters()
        before = form.cleaned_data.get("before") if form.is_bound else None
        page = selectors.event_page(filters=filters, before=before)
    context = {
        "form": form,
        "page": page,
        "next_cursor": encode_cursor(page.next_cursor) if page else "",
        "query": form.query_without_cursor() if form.is_bound else "",
        "paged": bool(form.is_bound and form.is_valid() and form.cleaned_data.get("before")),
    }
    template = "metrics/partials/_event_rows.html" if is_htmx(request) else "metrics/events.html"
    return render(request, template, context, status=200 if page is not None else 400)


@staff_required
@require_GET
def event_detail(request, pk: int):
    event = selectors.event_get(pk=pk)
    if event is None:
        raise Http404("No such event.")
    return render(request, "metrics/event_detail.html", {"event": event})


@staff_required
@require_GET
def job_events(request, pk: int):
    """The events of one job, for the job's page (staff only): its history across attempts."""
    job = _staff_job(pk)
    return render(
        request,
        "metrics/partials/_job_events.html",
        {"job": job, "events": selectors.job_events(job=job)},
    )
