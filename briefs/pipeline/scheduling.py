"""Steps to run next, and handing them to the broker after commit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from studio.celery import app


@dataclass(frozen=True)
class NextStep:
    """A step to run next: which, on which row, and after how many seconds."""

    step: str
    object_id: int
    countdown: float = 0.0


# The Celery task that runs each step (briefs/tasks.py registers them under these names).
TASK_FOR_STEP = {
    "retrieve": "briefs.retrieve",
    "plan": "briefs.plan",
    "generate": "briefs.generate",
    "check": "briefs.check",
}


def enqueue(steps: Iterable[NextStep]) -> None:
    """Send each step to the broker now, after its countdown."""
    for step in steps:
        app.send_task(
            TASK_FOR_STEP[step.step], args=[step.object_id], countdown=step.countdown or None
        )


def schedule(steps: Iterable[NextStep]) -> None:
    """Send steps to the broker once the current transaction commits."""
    steps = list(steps)
    if steps:
        transaction.on_commit(lambda: enqueue(steps))
