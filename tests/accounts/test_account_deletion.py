"""Deleting an account: export offered, confirmed by reauthentication, purged by a job app by app; the
ledger, receipts and audit rows stay without the person's details."""

from datetime import date

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from apps.accounts import deletion
from apps.accounts import services as account_services
from apps.accounts import tasks as account_tasks
from apps.accounts.models import LoginSession, Membership, Tenant, User
from apps.accounts.purge import workspace_leftovers
from apps.billing import selectors as billing_selectors
from apps.billing import services as billing_services
from apps.billing.models import LedgerEntry, Receipt, StripeEvent
from apps.core.events import emit_event
from apps.core.models import Event, Job
from apps.core.purge import tenant_rows
from tests.billing.conftest import checkout_completed_event
from tests.conftest import PASSWORD

# What stays of a deleted workspace: billing's accounting records and the audit log.
KEPT = {"core.Event"}


def _kept(model) -> bool:
    return model._meta.app_label == "billing" or model._meta.label in KEPT


def _tenant_models():
    from apps.core.purge import tenant_foreign_keys

    return [model for model in apps.get_models() if tenant_foreign_keys(model)]


def _signed_in(user) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _fill_workspace(tenant, user) -> dict:
    """Rows in every app that keeps something for a workspace, files included."""
    worklog = apps.get_app_config("worklog")
    employer = worklog.get_model("Employer").objects.create(tenant=tenant, name="Initech")
    project = worklog.get_model("Project").objects.create(tenant=tenant, name="TPS", employer=employer)
    skill = worklog.get_model("Skill").objects.create(tenant=tenant, name="Python", key="python")
    tag = worklog.get_model("Tag").objects.create(tenant=tenant, name="ci")
    entry = worklog.get_model("Entry").objects.create(
        tenant=tenant,
        author=user,
        occurred_on=date(2026, 3, 1),
        title="Fixed the build",
        employer=employer,
        project=project,
    )
    entry.skills.add(skill)
    entry.tags.add(tag)
    evidence = worklog.get_model("Evidence")(
        tenant=tenant, entry=entry, kind="file", original_name="proof.txt"
    )
    evidence.file.save("proof.txt", ContentFile(b"the proof"), save=True)
    worklog.get_model("EntryVersion").objects.create(tenant=tenant, entry=entry, title="Fixed the buidl")
    reporting = apps.get_app_config("reporting")
    report = reporting.get_model("Report").objects.create(tenant=tenant, kind="summary", title="March")
    reporting.get_model("ReportVersion").objects.create(tenant=tenant, report=report, number=1)
    reporting.get_model("ReportShare").objects.create(
        tenant=tenant, report=report, token=f"share-{tenant.pk}"
    )
    assist = apps.get_app_config("assist")
    assist.get_model("Suggestion").objects.create(tenant=tenant, entry=entry, provider="builtin")
    assist.get_model("VoiceSettings").objects.create(tenant=tenant, user=user)
    apps.get_model("llm", "LLMRequest").objects.create(
        tenant=tenant, feature="assist.improve", provider="builtin"
    )
    job = Job(tenant=tenant, created_by=user, kind="worklog.export", label="Export", func_path="x")
    job.result_file.save("export.zip", ContentFile(b"zip"), save=False)
    job.save()
    account_services.access_token_create(user=user, tenant=tenant, name="cli")
    account_services.tenant_rename(tenant=tenant, actor=user, name="Alice Anders's log")
    if apps.is_installed("apps.notifications"):
        notification = apps.get_model("notifications", "Notification")
        kind = notification._meta.get_field("kind").choices[0][0]
        notification.objects.create(tenant=tenant, user=user, kind=kind, key="k", title="Hello")
    if apps.is_installed("apps.metrics"):
        apps.get_model("metrics", "WorkspaceDailySnapshot").objects.create(
            tenant=tenant, day=date(2026, 3, 1)
        )
    billing_services.webhook_event_process(
        event=checkout_completed_event(
            tenant=tenant, amount_cents=2000, customer_details={"email": user.email, "name": user.name}
        )
    )
    billing_services.reserve_deduct(tenant=tenant, amount_micros=1_000_000, idempotency_key="spent")
    return {"evidence": evidence.file.name, "job_file": job.result_file.name}


def _delete_through_the_page(client, *, password=PASSWORD):
    """POST the confirmation: allauth asks for the password first, then the request goes through."""
    response = client.post("/profile/delete/", {"confirm": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/?next=%2Fprofile%2Fdelete%2F")
    return client.post(response["Location"], {"password": password})


def test_it_offers_the_export_first_and_explains_what_goes_and_what_stays(alice, tenant):
    client = _signed_in(alice)
    export = Job.objects.create(
        tenant=tenant, created_by=alice, kind="worklog.export", label="Export", func_path="x"
    )
    page = client.get("/profile/delete/").content.decode()
    assert 'action="/log/import-export/export/"' in page
    assert f'href="/jobs/{export.pk}/"' in page
    assert "Payments, receipts and refunds" in page and "Delete my account" in page
    assert 'href="/profile/delete/"' in client.get("/profile/").content.decode()


def test_it_asks_for_the_password_before_anything_happens(alice, tenant):
    client = _signed_in(alice)
    response = client.post("/profile/delete/", {"confirm": "on"})
    assert response["Location"].startswith("/accounts/reauthenticate/")
    alice.refresh_from_db()
    assert alice.is_active and not Job.objects.filter(kind=deletion.DELETE_JOB_KIND).exists()
    wrong = client.post(response["Location"], {"password": "not it"})
    assert wrong.status_code == 200
    assert User.objects.get(pk=alice.pk).is_active


def test_it_confirms_with_a_passkey_when_the_person_has_no_password(alice, tenant):
    alice.set_unusable_password()
    alice.save()
    Authenticator.objects.create(
        user=alice, type=Authenticator.Type.WEBAUTHN, data={"name": "Laptop", "credential": {}}
    )
    client = Client()
    client.force_login(alice)
    response = client.post("/profile/delete/", {"confirm": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/webauthn/reauthenticate/")
    assert User.objects.get(pk=alice.pk).is_active


def test_it_deletes_the_account_and_purges_every_row_of_the_workspace_outside_billing_and_audit(
    alice, tenant, charlie, other_tenant, media, django_capture_on_commit_callbacks
):
    files = _fill_workspace(tenant, alice)
    _fill_workspace(other_tenant, charlie)
    populated = {model._meta.label for model in _tenant_models() if tenant_rows(model, tenant).exists()}
    assert {
        "worklog.Entry",
        "worklog.Evidence",
        "reporting.Report",
        "assist.Suggestion",
        "core.Job",
    } <= populated
    _token, raw = account_services.access_token_create(user=alice, tenant=tenant, name="script")
    client = _signed_in(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = _delete_through_the_page(client)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    # Signed out, stopped at once: no session, no token, no sign-in, before the job has even run.
    assert client.get("/").status_code == 302
    assert Client().get("/api/me/", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    again = Client()
    assert again.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})["Location"] == (
        "/accounts/inactive/"
    )
    assert again.get("/").status_code == 302
    assert not LoginSession.objects.filter(user=alice).exists()
    login_page = client.get("/accounts/login/").content.decode()
    assert "Your account is being deleted" in login_page

    job = Job.objects.get(kind=deletion.DELETE_JOB_KIND)
    assert job.tenant is None and job.params == {"user_id": alice.pk, "tenant_ids": [tenant.pk]}
    account_tasks.account_delete(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error

    # Every model with a workspace foreign key, in every installed app: nothing left but billing and audit.
    left = {
        model._meta.label: tenant_rows(model, tenant).count()
        for model in _tenant_models()
        if not _kept(model) and tenant_rows(model, tenant).exists()
    }
    assert left == {}
    assert workspace_leftovers(tenant=tenant) == {}
    assert not default_storage.exists(files["evidence"]) and not default_storage.exists(files["job_file"])
    # Charlie's workspace is untouched.
    assert all(
        tenant_rows(model, other_tenant).exists()
        for model in _tenant_models()
        if model._meta.label in populated and not _kept(model)
    )

    # Kept: the ledger (still reconciling), the receipt and the events, without Alice in them.
    assert LedgerEntry.objects.filter(tenant=tenant).count() == 2
    assert billing_selectors.reconcile_problems()[1] == []
    receipt = Receipt.objects.get(tenant=tenant)
    assert (receipt.billed_to_name, receipt.billed_to_email, receipt.workspace_name) == (
        "",
        "",
        "Deleted workspace",
    )
    assert receipt.total_cents == 2000
    payload = StripeEvent.objects.get(tenant=tenant).payload
    assert payload["data"]["object"]["customer_details"] is None
    tenant.refresh_from_db()
    assert (tenant.name, tenant.slug) == ("Deleted workspace", f"deleted-{tenant.pk}")
    renamed = Event.objects.get(kind="tenant.renamed", tenant=tenant)
    assert renamed.data["name"] == "[removed]" and renamed.data["old_name"] == "[removed]"

    tombstone = User.objects.get(pk=alice.pk)
    assert tombstone.email == f"deleted-{alice.pk}@deleted.invalid" and tombstone.name == ""
    assert not tombstone.is_active and not tombstone.has_usable_password()
    assert not EmailAddress.objects.filter(user=tombstone).exists()
    assert not Membership.objects.filter(user=tombstone).exists()
    assert Event.objects.filter(kind="account.deleted", actor=tombstone).exists()
    assert [message.to for message in mail.outbox if "has been deleted" in message.subject] == [
        ["alice@example.com"]
    ]

    # The job is safe to run again, and the purge too.
    account_tasks.account_delete(job.pk)
    deletion.account_delete_work(job)
    assert workspace_leftovers(tenant=tenant) == {}


def test_it_refuses_while_someone_else_works_in_the_workspace(alice, bob, tenant):
    client = _signed_in(alice)
    page = client.get("/profile/delete/").content.decode()
    assert 'id="delete-blocked"' in page and "Bob Brandt" in page
    with pytest.raises(deletion.AccountDeletionRefused, match="Bob Brandt"):
        deletion.account_deletion_request(user=alice)
    assert User.objects.get(pk=alice.pk).is_active
    assert not Job.objects.filter(kind=deletion.DELETE_JOB_KIND).exists()


def test_it_lets_a_member_leave_by_deleting_their_account_and_keeps_the_workspace(alice, bob, tenant, media):
    worklog = apps.get_app_config("worklog")
    worklog.get_model("Entry").objects.create(
        tenant=tenant, author=alice, occurred_on=date(2026, 3, 1), title="A"
    )
    apps.get_model("assist", "VoiceSettings").objects.create(tenant=tenant, user=bob)
    job = deletion.account_deletion_request(user=bob)
    assert job.params["tenant_ids"] == []
    account_tasks.account_delete(job.pk)
    assert worklog.get_model("Entry").objects.filter(tenant=tenant).count() == 1
    assert list(Membership.objects.filter(tenant=tenant).values_list("user__email", flat=True)) == [
        alice.email
    ]
    assert not apps.get_model("assist", "VoiceSettings").objects.filter(user=bob).exists()
    assert User.objects.get(pk=bob.pk).email.endswith("@deleted.invalid")
    assert Tenant.objects.get(pk=tenant.pk).name == "Alice's workspace"


def test_it_keeps_the_form_and_says_what_is_missing(alice, tenant):
    client = _signed_in(alice)
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    response = client.post("/profile/delete/", {})
    assert response.status_code == 400
    assert "Tick the box to confirm" in response.content.decode()
    assert User.objects.get(pk=alice.pk).is_active


def test_it_counts_what_is_left_of_a_workspace_outside_the_kept_models(tenant):
    apps.get_model("reporting", "Report").objects.create(tenant=tenant, kind="summary", title="Stays")
    billing_services.webhook_event_process(event=checkout_completed_event(tenant=tenant, amount_cents=1000))
    emit_event("something.happened", tenant=tenant)
    assert workspace_leftovers(tenant=tenant) == {"reporting.Report": 1}
