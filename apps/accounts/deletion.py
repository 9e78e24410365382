"""Deleting an account and deactivating a person (writes; the views call these).

Deleting an account (asked for by the person, after allauth's reauthentication):
- At once, in the request: the person is made inactive (no sign-in, no token works), every session they
  signed in with ends, and a job is queued. The page then signs them out.
- The job (apps.accounts.tasks.account_delete) purges the workspace the person owns, app by app
  (apps.accounts.purge: entries, evidence files, reports, suggestions, tokens, notifications, jobs ...), then
  what is theirs personally wherever they work (email addresses, passkeys, voice settings), and finally
  turns the user row into a tombstone. Run twice, it finds nothing more to do.
- Kept: the ledger, receipts, refunds and Stripe records (accounting; the ledger is append-only) and the
  audit events, with the person's details removed: receipts lose the name and address, the workspace row
  stays (the ledger points at it) as "Deleted workspace", and the user row stays as a tombstone
  (`deleted-<id>@deleted.invalid`, no name, no password, inactive) because ledger entries, top-ups and
  events point at it; a tombstone identifies no one.
- A workspace another person also belongs to is not deleted with its owner: the request is refused with
  their names (their work would go too); a member who is not the owner leaves, and the workspace stays.

Deactivating (staff): the person cannot sign in, their sessions end at once and their tokens stop
(tokens only act for active people). Reactivating lets them sign in again; their tokens work again.
"""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from apps.accounts import purge
from apps.accounts.models import InviteRedemption, Membership, PersonalAccessToken, Tenant, User
from apps.accounts.selectors import tenant_other_members
from apps.accounts.sessions import user_sessions_end
from apps.core.errors import ApplicationError, PermissionDenied, require_staff
from apps.core.events import emit_event
from apps.core.jobs import job_enqueue, job_progress, job_step
from apps.core.models import Job

DELETE_JOB_KIND = "account.delete"
DELETE_TASK = "apps.accounts.tasks.account_delete"
TOMBSTONE_DOMAIN = "deleted.invalid"
DELETED_WORKSPACE_NAME = "Deleted workspace"


class AccountDeletionRefused(ApplicationError):
    status_code = 409


@dataclass(frozen=True)
class DeletionPlan:
    """What deleting this person's account does."""

    workspaces: list[Tenant]  # owned, and purged with the account
    others: dict[int, list[User]]  # owned workspace id -> the other people in it (then it is refused)
    leaves: list[Tenant]  # workspaces the person only belongs to; they stay

    @property
    def blocked(self) -> bool:
        return any(self.others.values())


def account_deletion_plan(*, user: User) -> DeletionPlan:
    memberships = list(Membership.objects.filter(user=user).select_related("tenant").order_by("created_at"))
    owned = [m.tenant for m in memberships if m.role == Membership.Role.OWNER]
    others = tenant_other_members(tenants=owned, user=user)
    leaves = [m.tenant for m in memberships if m.role != Membership.Role.OWNER]
    return DeletionPlan(workspaces=owned, others=others, leaves=leaves)


def is_tombstone(user: User) -> bool:
    return user.email.endswith(f"@{TOMBSTONE_DOMAIN}")


def account_deletion_request(*, user: User) -> Job:
    """The person asked to delete their account (reauthenticated): stop everything now, purge in a job."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied("Only a signed-in, active person can delete their account.")
    plan = account_deletion_plan(user=user)
    if plan.blocked:
        names = sorted({person.name or person.email for people in plan.others.values() for person in people})
        raise AccountDeletionRefused(
            f"Other people work in your workspace ({', '.join(names)}); deleting your account would delete "
            "their work too. Ask us to hand the workspace over to one of them first.",
            extra={"others": names},
        )
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        job = job_enqueue(
            kind=DELETE_JOB_KIND,
            tenant=None,  # the workspace is purged, jobs included; this one must outlive it
            user=user,
            func_path=DELETE_TASK,
            label="Delete an account and its workspace",
            user_id=user.pk,
            tenant_ids=[tenant.pk for tenant in plan.workspaces],
        )
        for tenant in plan.workspaces:
            emit_event("account.deletion_requested", tenant=tenant, actor=user, job=job.pk)
        if not plan.workspaces:
            emit_event("account.deletion_requested", actor=user, job=job.pk)
    user_sessions_end(user=user)
    return job


def tenant_tombstone(*, tenant: Tenant) -> int:
    """Accounts' workspace step: memberships and tokens go; the row stays under a neutral name."""
    with transaction.atomic():
        removed = PersonalAccessToken.objects.filter(tenant=tenant).delete()[0]
        removed += Membership.objects.filter(tenant=tenant).delete()[0]
        Tenant.objects.filter(pk=tenant.pk).update(
            name=DELETED_WORKSPACE_NAME, slug=f"deleted-{tenant.pk}", updated_at=timezone.now()
        )
    return removed


def person_accounts_purge(*, user: User) -> int:
    """Accounts' person step: sessions end; tokens, memberships and invite uses (with their IP) go."""
    user_sessions_end(user=user)
    with transaction.atomic():
        removed = PersonalAccessToken.objects.filter(user=user).delete()[0]
        removed += Membership.objects.filter(user=user).delete()[0]
        removed += InviteRedemption.objects.filter(user=user).delete()[0]
    return removed


def user_tombstone(*, user: User) -> User:
    """What stays of a deleted person: a row that identifies no one (see the module's notes)."""
    with transaction.atomic():
        EmailAddress.objects.filter(user=user).delete()
        user.email = f"deleted-{user.pk}@{TOMBSTONE_DOMAIN}"
        user.name = ""
        user.time_zone = "UTC"
        user.is_active = user.is_staff = user.is_superuser = False
        user.last_login = None
        user.set_unusable_password()
        user.save()
        user.groups.clear()
        user.user_permissions.clear()
    return user


def _goodbye_email(address: str) -> None:
    context = {"site_url": settings.SITE_URL.rstrip("/")}
    send_mail(
        subject="[AfterResume] Your account has been deleted",
        message=render_to_string("accounts/email/account_deleted.txt", context),
        from_email=None,
        recipient_list=[address],
    )


def account_delete_work(job: Job) -> None:
    """The job's work: purge each owned workspace, then the person, then the tombstone. Safe to repeat."""
    user = User.objects.get(pk=job.params["user_id"])
    address = "" if is_tombstone(user) else user.email
    tenants = list(Tenant.objects.filter(pk__in=job.params.get("tenant_ids", [])).order_by("pk"))
    summary: dict[str, dict[str, int]] = {}
    total = len(tenants) + 1
    for done, tenant in enumerate(tenants):
        job_progress(job, done, total, step=f"Deleting the data of workspace {tenant.pk}")
        summary[f"workspace {tenant.pk}"] = purge.workspace_purge(tenant=tenant)
    job_step(job, "Removing personal details")
    summary["person"] = purge.person_purge(user=user)
    user_tombstone(user=user)
    job_progress(job, total, total)
    emit_event("account.deleted", actor=user, job=job.pk, workspaces=[tenant.pk for tenant in tenants])
    job.summary = summary
    Job.objects.filter(pk=job.pk).update(summary=summary)
    if address:
        _goodbye_email(address)


@transaction.atomic
def user_deactivate(*, user: User, actor: User, reason: str = "") -> User:
    """Staff stop a person: no sign-in, sessions end now, tokens stop (they act only for active people)."""
    require_staff(actor, "Only staff can deactivate people.")
    if user.pk == actor.pk:
        raise PermissionDenied("You cannot deactivate yourself; ask another member of staff.")
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    ended = user_sessions_end(user=user)
    emit_event("user.deactivated", actor=actor, user_id=user.pk, sessions_ended=ended, reason=reason[:300])
    return user


@transaction.atomic
def user_reactivate(*, user: User, actor: User) -> User:
    require_staff(actor, "Only staff can reactivate people.")
    if is_tombstone(user):
        raise PermissionDenied("A deleted account cannot be reactivated.")
    User.objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True
    emit_event("user.reactivated", actor=actor, user_id=user.pk)
    return user
