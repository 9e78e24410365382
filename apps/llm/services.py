"""Writes of the model gateway besides llm_run (in gateway.py)."""

import logging

from apps.billing import selectors as billing_selectors
from apps.billing import services as billing
from apps.billing.errors import IdempotencyConflict
from apps.core.models import Job
from apps.llm.gateway import job_key_prefix

logger = logging.getLogger("afterresume.llm")


def llm_job_holds_release(*, job: Job) -> int:
    """Void the holds of the job's calls still in flight (the job was cancelled). Returns how many.

    The worker finds its hold voided when its answer arrives, records nothing and stops; a call that was
    charged just before keeps its charge (the work was done). Safe to run twice.
    """
    released = 0
    in_flight = billing_selectors.hold_ids_pending(tenant=job.tenant, key_prefix=job_key_prefix(job))
    for hold_id in in_flight:
        try:
            billing.hold_void(tenant=job.tenant, hold_id=hold_id)
            released += 1
        except IdempotencyConflict:
            logger.info("hold %s of job %s was captured before the cancel reached it", hold_id, job.pk)
    return released
