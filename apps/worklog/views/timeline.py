from django.http import QueryDict
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from apps.core.errors import ApplicationError
from apps.core.responses import is_htmx
from apps.core.tenancy import require_tenant
from apps.worklog import selectors
from apps.worklog.forms import TimelineFilterForm
from apps.worklog.views.common import UNDO_SESSION_KEY
from apps.worklog.views.rows import ranked_items, timeline_items


def _query(filters: selectors.EntryFilters, **extra) -> str:
    query = QueryDict(mutable=True)
    query.update(filters.active())
    for name, value in extra.items():
        if value:
            query[name] = value
    return query.urlencode()


@require_GET
def timeline(request):
    """The log, newest first, grouped by month and week; a search shows the best matches first.

    One view answers three ways: the full page; the results alone when the filters change (htmx); and the
    next page of rows when the list is scrolled to its end (htmx with a cursor). No answer counts the whole
    log: the total is counted up to a bound, a search counts its first window of matches.
    """
    tenant = require_tenant(request)
    form = TimelineFilterForm(request.GET or None)
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
    filters = form.filters()
    cursor = request.GET.get("cursor", "").strip() or None
    try:
        page = selectors.entry_page(tenant=tenant, filters=filters, cursor=cursor, as_rows=True)
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        status, cursor = 400, None
        page = selectors.entry_page(tenant=tenant, filters=filters, as_rows=True)
    if page.ranked:
        rows = ranked_items(page.items)
    else:
        counts = selectors.timeline_counts(
            tenant=tenant, filters=filters, items=page.items, filtered=page.filtered
        )
        rows = timeline_items(selectors.timeline_rows(page, counts))
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "rows": rows,
        "next_url": f"{request.path}?{_query(filters, cursor=page.next_cursor)}" if page.next_cursor else "",
    }
    if is_htmx(request) and cursor:
        response = render(request, "worklog/partials/_timeline_page.html", context, status=status)
    else:
        context["match_count"] = page.match_count
        if not page.items or not (page.ranked or filters.narrowed):
            total = selectors.entry_total(tenant=tenant)
            context.update(total=total.count, total_more=total.more, total_shown=f"{total.count:,}")
        if is_htmx(request):
            response = render(request, "worklog/partials/_timeline_results.html", context, status=status)
        else:
            context["undo"] = request.session.pop(UNDO_SESSION_KEY, None)
            response = render(request, "worklog/timeline.html", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def filter_names(request):
    """The filter form's type-ahead lists (every employer, project, skill and tag name), fetched when the
    form is first focused rather than with every timeline page."""
    response = render(
        request,
        "worklog/partials/_filter_datalists.html",
        selectors.reference_names(tenant=require_tenant(request)),
    )
    patch_vary_headers(response, ["HX-Request"])
    return response
