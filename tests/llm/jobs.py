"""Job tasks as a feature writes them: take the job id, claim it, run each step through the gateway."""

from apps.core.jobs import job_cancel, job_check_cancelled, job_progress, job_run, job_succeed
from apps.core.models import Job
from apps.llm.gateway import llm_run, llm_step_key
from tests.llm.conftest import make_task


def summarise(job_id: int, steps: int = 1, confidential: bool = False, cancel_after: int = 0) -> None:
    """`cancel_after=n`: the person presses Cancel right after step n (through the same service)."""

    def work(job):
        results = []
        for number in range(1, steps + 1):
            job_check_cancelled(job)
            job_progress(job, number - 1, steps, step=f"Step {number} of {steps}")
            result = llm_run(
                tenant=job.tenant,
                task=make_task(contains_confidential=confidential),
                idempotency_key=llm_step_key(job, f"s{number}"),
                job=job,
            )
            results.append(result.data)
            if number == cancel_after:
                job_cancel(job=Job.objects.get(pk=job.pk))
        job_succeed(job, summary={"answers": results, "lines": [f"{len(results)} answers."]})

    job_run(job_id, work)
