"""Leases: a step holds its row while it works; the sweeper frees rows whose holder died.

Every move is a conditional UPDATE that still names the lease, so a worker that lost its lease
(it was too slow, or presumed dead) cannot write over the one that took over."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from briefs.models import Brief, Take
from briefs.pipeline.scheduling import NextStep
from briefs.pipeline.states import BRIEF_STEP_FOR_STATUS, TAKE_STEP_FOR_STATUS, LeaseLost

logger = logging.getLogger(__name__)


def lease_seconds() -> timedelta:
    return timedelta(seconds=settings.PIPELINE_LEASE_SECONDS)


def lease_free(now: datetime) -> Q:
    return Q(lease_owner="") | Q(lease_expires_at__lt=now)


def claim(model: type[models.Model], pk: int, statuses: Sequence[str], *, owner: str, **extra):
    """Take the lease on a row in one of `statuses`; False when someone else holds it."""
    now = timezone.now()
    claimed = (
        model.objects.filter(pk=pk, status__in=statuses)
        .filter(lease_free(now))
        .update(lease_owner=owner, lease_expires_at=now + lease_seconds(), updated_at=now, **extra)
    )
    return claimed == 1


def move(model: type[models.Model], pk: int, *, owner: str, **updates: Any) -> None:
    """Move a row we hold the lease on and release it; raise LeaseLost if we no longer do.

    A released row still has a deadline: if nobody picks it up by then the sweeper does.
    """
    now = timezone.now()
    updates.setdefault("lease_owner", "")
    updates.setdefault("lease_expires_at", now + lease_seconds())
    if model.objects.filter(pk=pk, lease_owner=owner).update(updated_at=now, **updates) != 1:
        raise LeaseLost(f"{model.__name__} {pk}")


def finish(model: type[models.Model], pk: int, *, owner: str, **updates: Any) -> None:
    """Move a row we hold into a state no step waits on."""
    move(model, pk, owner=owner, lease_expires_at=None, **updates)


def sweep_expired_leases() -> list[NextStep]:
    """Free rows whose step died or whose message was lost, and return the steps to re-enqueue."""
    now = timezone.now()
    steps: list[NextStep] = []
    expired_briefs = Brief.objects.filter(
        status__in=BRIEF_STEP_FOR_STATUS, lease_expires_at__lt=now
    ).values_list("pk", "status", "lease_expires_at")
    for pk, status, expires in expired_briefs:
        # Clearing the owner lets the re-enqueued step claim at once; the new deadline stops
        # the next sweep from enqueueing it again while it waits in the queue.
        freed = Brief.objects.filter(pk=pk, status=status, lease_expires_at=expires).update(
            lease_owner="", lease_expires_at=now + lease_seconds()
        )
        if freed:
            steps.append(NextStep(BRIEF_STEP_FOR_STATUS[status], pk))
    expired_takes = (
        Take.objects.filter(status__in=TAKE_STEP_FOR_STATUS, lease_expires_at__lt=now)
        .exclude(shot__brief__status=Brief.Status.CANCELLED)
        .values_list("pk", "status", "lease_expires_at")
    )
    for pk, status, expires in expired_takes:
        freed = Take.objects.filter(pk=pk, status=status, lease_expires_at=expires).update(
            lease_owner="", lease_expires_at=now + lease_seconds()
        )
        if freed:
            steps.append(NextStep(TAKE_STEP_FOR_STATUS[status], pk))
    if steps:
        logger.warning("sweeper re-enqueued %d step(s) with expired leases", len(steps))
    return steps


def worker_name() -> str:
    """Name this process for leases and Handoff rows."""
    return f"{socket.gethostname()}:{os.getpid()}"
