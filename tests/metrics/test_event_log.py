"""The staff event log: filters, keyset paging without counting, one event's data, one job's events."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from apps.core.events import emit_event
from apps.core.models import Event, Job
from apps.metrics import selectors
from apps.metrics.forms import decode_cursor


def _ids(page) -> list[int]:
    return [event.pk for event in page.events]


def test_it_pages_newest_first_without_gaps_or_repeats(db, tenant):
    moment = timezone.now()
    with time_machine.travel(moment, tick=False):  # many events in the same microsecond: the id breaks ties
        created = [emit_event("thing.happened", tenant=tenant, n=n).pk for n in range(120)]
    seen, before = [], None
    while True:
        page = selectors.event_page(filters=selectors.EventFilters(kind="thing.happened"), before=before)
        seen += _ids(page)
        if page.next_cursor is None:
            break
        before = page.next_cursor
    assert seen == sorted(created, reverse=True)


def test_it_filters_by_kind_workspace_person_and_time(staff_client, tenant, other_tenant, alice, charlie):
    old = timezone.now() - timedelta(days=10)
    with time_machine.travel(old, tick=False):
        emit_event("billing.reserve.adjusted", tenant=tenant, actor=alice, amount_micros=1)
    emit_event("billing.reserve.credited", tenant=tenant, amount_micros=2)
    emit_event("entry.created", tenant=other_tenant, actor=charlie, entry_id=9)

    def kinds(query: str) -> list[str]:
        page = staff_client.get(f"/staff/system/events/?{query}").context["page"]
        return [event.kind for event in page.events if not event.kind.startswith("user.")]

    assert kinds("kind=billing.") == ["billing.reserve.credited", "billing.reserve.adjusted"]
    assert kinds("kind=entry.created") == ["entry.created"]
    assert kinds("workspace=charlie") == ["entry.created"]
    assert kinds("actor=ALICE@example.com") == ["billing.reserve.adjusted"]
    today = timezone.localdate()
    assert "billing.reserve.adjusted" not in kinds(f"since={today - timedelta(days=2)}")
    assert kinds(f"until={today - timedelta(days=5)}&kind=billing.") == ["billing.reserve.adjusted"]


def test_it_explains_filters_it_cannot_use(staff_client, db):
    response = staff_client.get("/staff/system/events/?workspace=nobody&before=garbage")
    assert response.status_code == 400
    page = response.content.decode()
    assert "No workspace has that slug." in page
    assert "That page link is out of date" in page
    assert 'value="nobody"' in page


def test_it_costs_the_same_on_the_first_and_a_deep_page(staff_client, tenant, django_assert_max_num_queries):
    for n in range(130):
        emit_event("thing.happened", tenant=tenant, n=n)
    first = staff_client.get("/staff/system/events/?kind=thing.happened")
    cursor = first.context["next_cursor"]
    assert decode_cursor(cursor) is not None
    with django_assert_max_num_queries(12) as small:
        staff_client.get("/staff/system/events/?kind=thing.happened")
    with django_assert_max_num_queries(len(small.captured_queries)):
        deep = staff_client.get(
            "/staff/system/events/", {"kind": "thing.happened", "before": cursor}, HTTP_HX_REQUEST="true"
        )
    assert "Load older events" in deep.content.decode()
    assert not any(
        "COUNT(" in query["sql"] for query in small.captured_queries if "core_event" in query["sql"]
    )


def test_it_opens_one_event_with_its_data(staff_client, tenant, alice, client):
    event = emit_event("billing.reserve.adjusted", tenant=tenant, actor=alice, reason="Goodwill <b>", job=42)
    page = staff_client.get(f"/staff/system/events/{event.pk}/").content.decode()
    assert "&quot;reason&quot;: &quot;Goodwill &lt;b&gt;&quot;" in page
    assert "/staff/system/events/?job=42" in page
    assert staff_client.get("/staff/system/events/999999/").status_code == 404


def test_it_hides_the_event_log_from_everyone_else(alice_client, tenant, alice):
    event = emit_event("entry.created", tenant=tenant, actor=alice, entry_id=1)
    assert alice_client.get("/staff/system/events/").status_code == 404
    assert alice_client.get(f"/staff/system/events/{event.pk}/").status_code == 404


def _job(tenant, user, status=Job.Status.RUNNING) -> Job:
    return Job.objects.create(
        tenant=tenant, created_by=user, kind="test.report", label="A report", func_path="x.y", status=status
    )


def test_it_shows_the_events_of_one_job_on_its_page(client, staff, tenant):
    staff_tenant = staff.memberships.get().tenant
    job = _job(staff_tenant, staff)
    other = _job(tenant, None)
    emit_event(
        "job.failed", tenant=staff_tenant, actor=staff, job=job.pk, job_kind="test.report", error="Boom"
    )
    emit_event("job.retried", tenant=staff_tenant, actor=staff, job=job.pk, job_kind="test.report")
    emit_event("job.failed", tenant=tenant, job=other.pk, job_kind="test.report", error="Other")
    client.force_login(staff)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert f'hx-get="/staff/system/jobs/{job.pk}/events/"' in page
    fragment = client.get(f"/staff/system/jobs/{job.pk}/events/").content.decode()
    assert fragment.index("job.failed") < fragment.index("job.retried")
    assert "Boom" in fragment and "Other" not in fragment
    assert 'hx-trigger="every 3s"' in fragment  # still running: it keeps polling
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    assert "hx-trigger" not in client.get(f"/staff/system/jobs/{job.pk}/events/").content.decode()
    # Anyone else sees the job page (their own jobs) without the staff section.
    assert [event.pk for event in selectors.job_events(job=other)] == list(
        Event.objects.filter(data__job=other.pk).values_list("pk", flat=True)
    )


def test_it_leaves_the_staff_section_off_other_peoples_job_pages(alice_client, tenant, alice):
    job = _job(tenant, alice)
    page = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "/staff/system/jobs/" not in page
