"""Celery tasks: thin wrappers that take ids and run one pipeline step each.

Each task is idempotent (a step claims its row's lease with a conditional UPDATE and returns at
once when it cannot), acknowledged late, and retried by Celery only for database hiccups;
provider errors are retried by the pipeline itself, which keeps the attempt count in the database.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from briefs import pipeline
from briefs.pipeline import continuity

_DATABASE_HICCUPS = (OperationalError, InterfaceError)
_TASK_OPTIONS = {
    "acks_late": True,
    "autoretry_for": _DATABASE_HICCUPS,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}


def _run(task, step: str, object_id: int) -> None:
    owner = f"{task.request.hostname or pipeline.worker_name()}:{task.request.id}"
    pipeline.enqueue(pipeline.run_step(step, object_id, owner=owner))


@shared_task(bind=True, name=pipeline.TASK_FOR_STEP["retrieve"], **_TASK_OPTIONS)
def retrieve_brief(self, brief_id: int) -> None:
    """Find a brief's rights-cleared references."""
    _run(self, "retrieve", brief_id)


@shared_task(bind=True, name=pipeline.TASK_FOR_STEP["plan"], **_TASK_OPTIONS)
def plan_brief(self, brief_id: int) -> None:
    """Plan a brief's shots."""
    _run(self, "plan", brief_id)


@shared_task(bind=True, name=pipeline.TASK_FOR_STEP["generate"], **_TASK_OPTIONS)
def generate_take(self, take_id: int) -> None:
    """Start, poll or store a take's generation."""
    _run(self, "generate", take_id)


@shared_task(bind=True, name=pipeline.TASK_FOR_STEP["check"], **_TASK_OPTIONS)
def check_take(self, take_id: int) -> None:
    """Check a generated take."""
    _run(self, "check", take_id)


@shared_task(name="briefs.sweep_expired_leases", acks_late=True)
def sweep_expired_leases() -> int:
    """Re-enqueue steps whose worker died or whose message was lost."""
    steps = pipeline.sweep_expired_leases()
    pipeline.enqueue(steps)
    return len(steps)


@shared_task(name="briefs.check_continuity", **_TASK_OPTIONS)
def check_continuity(brief_id: int) -> dict:
    """Measure a brief's new current takes, score new shot pairs and route drifting takes."""
    run = continuity.check_continuity(brief_id, owner=pipeline.worker_name())
    return {"measured": run.measured, "scored": run.scored, "routed": list(run.routed)}
