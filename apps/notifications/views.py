"""Pages: the notifications list, the bell's menu and badge, reading, settings, and unsubscribing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import ApplicationError
from apps.core.responses import is_htmx
from apps.core.tenancy import require_tenant
from apps.notifications import selectors, services
from apps.notifications.forms import PreferencesForm
from apps.notifications.kinds import kind_label
from apps.notifications.templatetags.notifications import unread_count


def _show(request) -> str:
    return "unread" if request.GET.get("show", request.POST.get("show")) == "unread" else "all"


def _page_context(request, *, show: str, page_number=None) -> dict:
    tenant = require_tenant(request)
    notifications = selectors.notification_list(
        user=request.user, tenant=tenant, unread_only=show == "unread"
    )
    page_obj = Paginator(notifications, selectors.PAGE_SIZE).get_page(page_number)
    return {"page_obj": page_obj, "show": show, "unread": unread_count(request)}


def _fresh_count(request) -> int:
    request.__dict__.pop("_notifications_unread", None)
    return unread_count(request)


def _badge(request, unread: int) -> str:
    return render_to_string(
        "notifications/partials/_bell_badge.html", {"unread": unread, "oob": True}, request=request
    )


def _toast(request, message: str) -> str:
    return render_to_string(
        "core/partials/_toast_oob.html", {"message": message, "level": "success"}, request=request
    )


@require_GET
def notification_list(request):
    show = _show(request)
    context = _page_context(request, show=show, page_number=request.GET.get("page"))
    if is_htmx(request):
        html = render_to_string("notifications/partials/_list.html", context, request=request)
        toolbar = render_to_string(
            "notifications/partials/_toolbar.html", {**context, "oob": True}, request=request
        )
        return HttpResponse(html + toolbar)
    return render(request, "notifications/list.html", context)


@require_GET
def bell_menu(request):
    """The bell's dropdown: the latest few, newest first."""
    tenant = require_tenant(request)
    items = list(selectors.notification_list(user=request.user, tenant=tenant)[: selectors.BELL_LIMIT])
    unread = unread_count(request)
    html = render_to_string(
        "notifications/partials/_bell_menu.html", {"items": items, "unread": unread}, request=request
    )
    return HttpResponse(html + _badge(request, unread))


@require_GET
def bell_badge(request):
    require_tenant(request)
    return render(request, "notifications/partials/_bell_badge.html", {"unread": unread_count(request)})


@require_GET
def notification_open(request, pk: int):
    """Follow a notification: it is read now, and the person lands where it points."""
    notification = selectors.notification_get(user=request.user, tenant=require_tenant(request), pk=pk)
    services.notification_mark_read(notification=notification)
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications_list")


@require_POST
def notification_read(request, pk: int):
    tenant = require_tenant(request)
    notification = selectors.notification_get(user=request.user, tenant=tenant, pk=pk)
    services.notification_mark_read(notification=notification)
    if not is_htmx(request):
        messages.success(request, "Marked read.")
        return redirect("notifications_list")
    unread = _fresh_count(request)
    item = render_to_string(
        "notifications/partials/_item.html",
        {"notification": notification, "show": _show(request)},
        request=request,
    )
    toolbar = render_to_string(
        "notifications/partials/_toolbar.html",
        {"unread": unread, "show": _show(request), "oob": True},
        request=request,
    )
    return HttpResponse(item + toolbar + _badge(request, unread))


@require_POST
def notification_read_all(request):
    tenant = require_tenant(request)
    count = services.notification_mark_all_read(user=request.user, tenant=tenant)
    done = f"Marked {count} notification{'s' if count != 1 else ''} read." if count else "Nothing was unread."
    if not is_htmx(request):
        messages.success(request, done)
        return redirect("notifications_list")
    _fresh_count(request)
    if request.POST.get("from") == "bell":
        items = list(selectors.notification_list(user=request.user, tenant=tenant)[: selectors.BELL_LIMIT])
        html = render_to_string(
            "notifications/partials/_bell_menu.html", {"items": items, "unread": 0}, request=request
        )
        response = HttpResponse(html + _badge(request, 0) + _toast(request, done))
        response["HX-Trigger"] = "notifications-read-all"
        return response
    context = _page_context(request, show=_show(request))
    html = render_to_string("notifications/partials/_list.html", context, request=request)
    toolbar = render_to_string(
        "notifications/partials/_toolbar.html", {**context, "oob": True}, request=request
    )
    return HttpResponse(html + toolbar + _badge(request, 0) + _toast(request, done))


@require_http_methods(["GET", "POST"])
def preferences(request):
    choices = selectors.preference_choices(user=request.user)
    schedule = selectors.reminder_schedule_for(user=request.user)
    initial = {"reminder_weekday": schedule.weekday, "reminder_hour": schedule.hour}
    form = PreferencesForm(request.POST or None, initial=initial, choices=choices)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.preferences_update(
                    user=request.user,
                    choices=form.channel_choices(),
                    reminder_weekday=form.cleaned_data["reminder_weekday"],
                    reminder_hour=form.cleaned_data["reminder_hour"],
                )
            except ApplicationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, "Notification settings saved.")
                return redirect("notifications_preferences")
        status = 400
    return render(request, "notifications/preferences.html", {"form": form}, status=status)


@login_not_required
@csrf_exempt  # the signed token is the credential; mail clients post RFC 8058 one-click without a CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """An email's unsubscribe link, signed out. GET asks first (mail scanners follow links); POST, from the
    page or a mail client's one-click (`List-Unsubscribe=One-Click`), turns that kind's email off."""
    try:
        if request.method == "POST":
            subscribed = request.POST.get("action") == "resubscribe"
            user, kind = services.email_subscription_set(token=token, subscribed=subscribed)
            state = "resubscribed" if subscribed else "unsubscribed"
        else:
            user, kind = services.email_subscription_peek(token=token)
            state = "confirm"
    except ApplicationError as exc:
        return render(request, "notifications/unsubscribe.html", {"error": exc.message}, status=400)
    context = {
        "state": state,
        "kind_label": kind_label(kind),
        "email": user.email,
        "in_app": selectors.preference_choices(user=user)[kind].in_app,
    }
    return render(request, "notifications/unsubscribe.html", context)
