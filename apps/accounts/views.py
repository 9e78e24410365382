from allauth.account.decorators import reauthentication_required
from allauth.account.views import SignupByPasskeyView, SignupView
from django.contrib import messages
from django.contrib.auth import logout
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import deletion, selectors, services
from apps.accounts.forms import (
    AccessTokenForm,
    AccountDeleteForm,
    InviteCreateForm,
    ProfileForm,
    WorkspaceForm,
)
from apps.accounts.models import Invite, PersonalAccessToken
from apps.core.decorators import staff_required
from apps.core.errors import ApplicationError
from apps.core.jobs import job_list

INVITES_PER_PAGE = 25
NEW_INVITE_SESSION_KEY = "staff_new_invite_code"
NEW_TOKEN_SESSION_KEY = "new_access_token"  # noqa: S105 - a session key name, not a secret


class AtomicSignupMixin:
    """Create the user, redeem the invite and make the workspace in one transaction.

    If the invite is taken by someone else between the form check and the redemption, the whole sign-up
    rolls back and the form is shown again with the reason, keeping what the person typed.
    """

    def form_valid(self, form):
        try:
            with transaction.atomic():
                return super().form_valid(form)
        except services.InviteRejected as exc:
            form.add_error("invite_code", exc.message)
            return self.form_invalid(form)


class InviteSignupView(AtomicSignupMixin, SignupView):
    pass


class InviteSignupByPasskeyView(AtomicSignupMixin, SignupByPasskeyView):
    pass


DASHBOARD_WORKLOG_ID = "dashboard-worklog"


@require_GET
def dashboard(request):
    headers = request.headers
    if headers.get("HX-Request") == "true" and headers.get("HX-Target") == DASHBOARD_WORKLOG_ID:
        # The work-log cards alone, re-fetched after an entry is saved on the page.
        response = render(request, "accounts/partials/_dashboard_worklog.html", {"tenant": request.tenant})
        patch_vary_headers(response, ["HX-Request", "HX-Target"])
        return response
    context = {
        "tenant": request.tenant,
        "security": selectors.security_summary(user=request.user),
        "member_since": request.user.date_joined,
        "invite_stats": selectors.invite_status_counts() if request.user.is_staff else None,
    }
    response = render(request, "accounts/dashboard.html", context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@require_http_methods(["GET", "POST"])
def profile(request):
    user, tenant = request.user, request.tenant
    forms = {
        "profile_form": ProfileForm(instance=user),
        "workspace_form": WorkspaceForm(instance=tenant),
        "token_form": AccessTokenForm(),
    }
    if request.method == "GET":
        return _profile_page(request, forms)
    action = request.POST.get("action")
    if action == "profile":
        form = forms["profile_form"] = ProfileForm(request.POST, instance=user)
        if form.is_valid():
            try:
                services.user_profile_update(user=user, **form.cleaned_data)
            except ApplicationError as exc:
                _show_error(form, exc)
            else:
                messages.success(request, "Profile saved.")
                return redirect("profile")
    elif action == "workspace":
        form = forms["workspace_form"] = WorkspaceForm(request.POST, instance=tenant)
        if form.is_valid():
            try:
                services.tenant_rename(tenant=tenant, actor=user, name=form.cleaned_data["name"])
            except ApplicationError as exc:
                _show_error(form, exc)
            else:
                messages.success(request, "Workspace renamed.")
                return redirect("profile")
    else:
        messages.error(request, "That form is not one we know; nothing was changed.")
    return _profile_page(request, forms, status=400)


def _show_error(form, exc: ApplicationError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _profile_page(request, forms: dict, status: int = 200):
    user = request.user
    context = {
        **forms,
        "email_addresses": user.emailaddress_set.order_by("-primary", "email"),
        "security": selectors.security_summary(user=user),
        "authenticators": selectors.authenticator_list(user=user),
        "access_tokens": selectors.access_token_list(user=user),
        "new_token": request.session.pop(NEW_TOKEN_SESSION_KEY, None),
    }
    return render(request, "accounts/profile.html", context, status=status)


@require_POST
def access_token_create(request):
    form = AccessTokenForm(request.POST)
    if form.is_valid():
        try:
            token, raw = services.access_token_create(
                user=request.user, tenant=request.tenant, name=form.cleaned_data["name"]
            )
        except ApplicationError as exc:
            _show_error(form, exc)
        else:
            request.session[NEW_TOKEN_SESSION_KEY] = raw
            messages.success(request, f"Token “{token.name}” created.")
            return redirect(reverse("profile") + "#tokens")
    forms = {
        "profile_form": ProfileForm(instance=request.user),
        "workspace_form": WorkspaceForm(instance=request.tenant),
        "token_form": form,
    }
    return _profile_page(request, forms, status=400)


@require_POST
def access_token_revoke(request, pk: int):
    token = get_object_or_404(PersonalAccessToken, pk=pk, user=request.user)
    services.access_token_revoke(token=token, actor=request.user)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect(reverse("profile") + "#tokens")


@staff_required
@require_GET
def staff_invite_list(request):
    return _invite_list_page(request, create_form=InviteCreateForm())


def _invite_list_page(request, *, create_form, status=200):
    status_filter = request.GET.get("status", "")
    if status_filter not in selectors.INVITE_STATUSES:
        status_filter = ""
    page_obj = Paginator(selectors.invite_list(status=status_filter), INVITES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page_obj": page_obj,
        "status_filter": status_filter,
        "status_counts": selectors.invite_status_counts(),
        "create_form": create_form,
        "new_code": request.session.pop(NEW_INVITE_SESSION_KEY, None),
    }
    return render(request, "accounts/staff/invite_list.html", context, status=status)


@staff_required
@require_POST
def staff_invite_create(request):
    form = InviteCreateForm(request.POST)
    if form.is_valid():
        try:
            _invite, code = services.invite_create(
                created_by=request.user,
                max_uses=form.cleaned_data["uses"],
                expires_in_days=form.cleaned_data["expires_in_days"],
                note=form.cleaned_data["note"],
            )
        except ApplicationError as exc:
            _show_error(form, exc)
        else:
            request.session[NEW_INVITE_SESSION_KEY] = code
            messages.success(request, "Invite created.")
            return redirect("staff_invite_list")
    return _invite_list_page(request, create_form=form, status=400)


@staff_required
@require_GET
def staff_invite_detail(request, pk: int):
    invite = get_object_or_404(Invite.objects.select_related("created_by"), pk=pk)
    context = {"invite": invite, "redemptions": selectors.invite_redemption_list(invite=invite)}
    return render(request, "accounts/staff/invite_detail.html", context)


@staff_required
@require_POST
def staff_invite_revoke(request, pk: int):
    invite = get_object_or_404(Invite, pk=pk)
    services.invite_revoke(invite=invite, actor=request.user)
    messages.success(request, f"Invite {invite.code_prefix}… revoked; it can no longer be used.")
    return redirect("staff_invite_detail", pk=invite.pk)


# The work-log export a person is offered before deleting their account (a job kind of apps.worklog, named
# here, not imported: accounts sits below the work log).
EXPORT_JOB_KIND = "worklog.export"


@require_http_methods(["GET", "POST"])
@reauthentication_required(allow_get=True)
def account_delete(request):
    """Offer the export, then delete the account once the person confirmed it with their password or passkey
    (allauth's reauthentication: a POST without a recent one goes there first and comes back here)."""
    user = request.user
    form = AccountDeleteForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                deletion.account_deletion_request(user=user)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                logout(request)
                messages.success(
                    request,
                    "Your account is being deleted and you are signed out. We email you once it is all gone.",
                )
                return redirect("account_login")
        status = 400
    tenant = request.tenant
    context = {
        "form": form,
        "plan": deletion.account_deletion_plan(user=user),
        "export_job": next(iter(job_list(tenant=tenant, kinds=[EXPORT_JOB_KIND], limit=1)), None),
        "security": selectors.security_summary(user=user),
    }
    return render(request, "accounts/delete.html", context, status=status)
