"""Staff page URLs for the tenancy harness (merged by tests/tenancy.py): alice, not staff, gets 404."""


def _job(owner, status="failed"):
    from apps.core.models import Job

    job = Job.objects.create(
        tenant=owner.memberships.get().tenant,
        created_by=owner,
        kind="test.report",
        label="A report",
        func_path="tests.core.test_jobs.count_to",
        status=status,
        attempts=1,
    )
    return {"pk": job.pk}


def _running_job(owner):
    return _job(owner, "running")


def _stripe_event(owner):
    from apps.billing.models import StripeEvent

    event = StripeEvent.objects.create(
        event_id="evt_tenancy", type="checkout.session.completed", status=StripeEvent.Status.FAILED
    )
    return {"pk": event.pk}


def _event(owner):
    from apps.core.events import emit_event

    return {"pk": emit_event("entry.created", tenant=owner.memberships.get().tenant, actor=owner).pk}


def _chart(owner):
    return {"key": "tokens"}


STAFF_ONLY = {
    "metrics_chart_csv": (_chart, ["get"]),
    "metrics_job_retry": (_job, ["post"]),
    "metrics_job_cancel": (_running_job, ["post"]),
    "metrics_job_events": (_job, ["get"]),
    "metrics_webhook_replay": (_stripe_event, ["post"]),
    "metrics_event_detail": (_event, ["get"]),
}
