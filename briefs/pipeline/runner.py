"""Run steps by name: from a Celery task (one step) or inline (demo, tests, bench)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

from django.db import InterfaceError, OperationalError

from briefs.models import Brief, Take
from briefs.pipeline.checking import check
from briefs.pipeline.context import Providers
from briefs.pipeline.generating import generate
from briefs.pipeline.handoffs import Clock, attempt_number
from briefs.pipeline.leases import renewed_lease
from briefs.pipeline.planning import plan
from briefs.pipeline.retrieving import retrieve
from briefs.pipeline.routing import retry_brief_step, retry_take_step
from briefs.pipeline.scheduling import NextStep
from briefs.pipeline.states import BRIEF_STEP_FOR_STATUS, TAKE_STEP_FOR_STATUS

logger = logging.getLogger(__name__)


def run_step(step: str, object_id: int, *, owner: str, providers: Providers | None = None):
    """Run one step by name and return what should run next."""
    runners: dict[str, Callable[..., list[NextStep]]] = {
        "retrieve": retrieve,
        "plan": plan,
        "generate": generate,
        "check": check,
    }
    model = Brief if step in ("retrieve", "plan") else Take
    try:
        with renewed_lease(model, object_id, owner=owner):
            return runners[step](object_id, owner=owner, providers=providers or Providers())
    except (OperationalError, InterfaceError):
        raise  # the task retries these hiccups; the lease keeps the row safe meanwhile
    except Exception as exc:
        # A bug, an unexpected answer or a write the schema refuses (DataError, IntegrityError)
        # must not leave the row leased forever, nor loop through the sweeper: retry it a
        # bounded number of times like a transient error, then route it to a human.
        logger.exception("%s step on %s crashed", step, object_id)
        return _after_crash(step, object_id, owner, exc)


def _after_crash(step: str, object_id: int, owner: str, exc: Exception) -> list[NextStep]:
    clock = Clock()
    if step in ("retrieve", "plan"):
        brief = Brief.objects.get(pk=object_id)
        if brief.lease_owner != owner:
            return []
        attempt = attempt_number(brief_id=brief.pk, step=step)
        return retry_brief_step(brief, step, exc, clock, attempt, owner)
    take = Take.objects.select_related("shot").get(pk=object_id)
    if take.lease_owner != owner:
        return []
    attempt = attempt_number(brief_id=take.shot.brief_id, step=step, take_id=take.pk)
    return retry_take_step(take, step, exc, clock, attempt, owner)


def run_inline(
    brief_id: int, *, providers: Providers | None = None, owner: str = "inline"
) -> Brief:
    """Run a brief's pending steps in this process until none are left (demo, tests, bench)."""
    providers = providers or Providers()
    pending = deque(pending_steps(brief_id))
    while pending:
        step = pending.popleft()
        # A poll countdown is for a shared worker; here the next poll can simply run now.
        pending.extend(run_step(step.step, step.object_id, owner=owner, providers=providers))
    return Brief.objects.get(pk=brief_id)


def pending_steps(brief_id: int) -> list[NextStep]:
    """Return the steps a brief is waiting for, whatever their leases say."""
    brief = Brief.objects.only("status").get(pk=brief_id)
    if brief.status in BRIEF_STEP_FOR_STATUS:
        return [NextStep(BRIEF_STEP_FOR_STATUS[brief.status], brief_id)]
    takes = Take.objects.filter(shot__brief_id=brief_id, status__in=TAKE_STEP_FOR_STATUS)
    return [NextStep(TAKE_STEP_FOR_STATUS[t.status], t.pk) for t in takes.only("status")]
