"""The job the scale-out run queues a thousand times: a metered call, paid through a hold like the model
gateway's, with every key derived from the job (not the attempt), so a job taken over after its worker died
finishes the charge it started instead of paying twice. Imported by the qcluster processes by dotted path."""

import os
import time

from django.db import transaction

from apps.billing import services
from apps.core.jobs import job_run
from apps.core.models import Job

TASK = "tests.scaleout.tasks.charge"
BOUND = {"llm_call": 2}  # the most one job may use: what is held
USED = {"llm_call": 1}  # what it uses: 100 micros on the default rate card
WORK_SECONDS = float(os.environ.get("SCALEOUT_WORK_SECONDS", "0.05"))  # the model's answer, in time


def charge(job_id: int) -> None:
    job_run(job_id, _charge)


def _charge(job: Job) -> None:
    key = f"scaleout:job:{job.pk}"
    held = services.usage_estimate(tenant=job.tenant, quantities=BOUND)
    hold = services.hold_place(tenant=job.tenant, amount_micros=held, idempotency_key=f"{key}:hold")
    time.sleep(WORK_SECONDS)
    with transaction.atomic():
        event = services.usage_record(
            tenant=job.tenant,
            quantities=USED,
            idempotency_key=key,
            hold_id=hold.pk,
            job_reference=f"job:{job.pk}",
        )
        # Set, not added: an attempt that takes over a charged job must not count its cost twice.
        Job.objects.filter(pk=job.pk).update(cost_micros=event.cost_micros)
