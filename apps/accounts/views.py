from allauth.account.views import SignupByPasskeyView, SignupView
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import selectors, services
from apps.accounts.forms import InviteCreateForm, ProfileForm, WorkspaceForm
from apps.accounts.models import Invite
from apps.core.decorators import staff_required
from apps.core.errors import ApplicationError

INVITES_PER_PAGE = 25
NEW_INVITE_SESSION_KEY = "staff_new_invite_code"


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


@require_GET
def dashboard(request):
    context = {
        "tenant": request.tenant,
        "security": selectors.security_summary(user=request.user),
        "member_since": request.user.date_joined,
        "invite_stats": selectors.invite_status_counts() if request.user.is_staff else None,
    }
    return render(request, "accounts/dashboard.html", context)


@require_http_methods(["GET", "POST"])
def profile(request):
    user, tenant = request.user, request.tenant
    profile_form = ProfileForm(instance=user)
    workspace_form = WorkspaceForm(instance=tenant)
    action = request.POST.get("action")
    status = 200
    if request.method == "POST" and action == "profile":
        profile_form = ProfileForm(request.POST, instance=user)
        if profile_form.is_valid():
            try:
                services.user_profile_update(user=user, **profile_form.cleaned_data)
            except ApplicationError as exc:
                profile_form.add_error(exc.field, exc.message)
            else:
                messages.success(request, "Profile saved.")
                return redirect("profile")
        status = 400
    elif request.method == "POST" and action == "workspace":
        workspace_form = WorkspaceForm(request.POST, instance=tenant)
        if workspace_form.is_valid():
            try:
                services.tenant_rename(tenant=tenant, actor=user, name=workspace_form.cleaned_data["name"])
            except ApplicationError as exc:
                workspace_form.add_error("name", exc.message)
            else:
                messages.success(request, "Workspace renamed.")
                return redirect("profile")
        status = 400
    elif request.method == "POST":
        messages.error(request, "That form is not one we know; nothing was changed.")
        status = 400
    context = {
        "profile_form": profile_form,
        "workspace_form": workspace_form,
        "email_addresses": user.emailaddress_set.order_by("-primary", "email"),
        "security": selectors.security_summary(user=user),
        "authenticators": selectors.authenticator_list(user=user),
    }
    return render(request, "accounts/profile.html", context, status=status)


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
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
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
