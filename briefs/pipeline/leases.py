"""Leases: a step holds its row while it works; the sweeper frees rows whose holder died.

Every move is a conditional UPDATE that still names the lease, so a worker that lost its lease
(it was too slow, or presumed dead) cannot write over the one that took over."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from briefs.models import Brief, Take
from briefs.pipeline.scheduling import NextStep
from briefs.pipeline.states import BRIEF_STEP_FOR_STATUS, TAKE_STEP_FOR_STATUS, LeaseLost

logger = logging.getLogger(__name__)


def lease_seconds() -> timedelta:
    return timedelta(seconds=settings.PIPELINE_LEASE_SECONDS)


def pickup_deadline() -> datetime:
    """Return when a row waiting for a step is swept up if no worker has taken it."""
    return timezone.now() + lease_seconds()


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


@contextmanager
def renewed_lease(model: type[models.Model], pk: int, *, owner: str) -> Iterator[None]:
    """Keep extending our lease while a step runs, so a slow provider call keeps its row.

    A background thread pushes the expiry forward every third of the lease for as long as we
    hold it; once the step moves the row on (or someone else holds it) the update matches
    nothing and the thread stops.
    """
    stop = threading.Event()
    interval = max(0.5, settings.PIPELINE_LEASE_SECONDS / 3)

    def renew() -> None:
        try:
            while not stop.wait(interval):
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        # Never wait behind a lock held by the step itself (or by a test's
                        # transaction): a renewal that cannot take the row simply stops.
                        cursor.execute("SET LOCAL lock_timeout = '1s'")
                    renewed = model.objects.filter(pk=pk, lease_owner=owner).update(
                        lease_expires_at=timezone.now() + lease_seconds()
                    )
                if not renewed:
                    return
        except DatabaseError:
            logger.warning("stopped renewing the lease on %s %s", model.__name__, pk)
        finally:
            connection.close()

    thread = threading.Thread(target=renew, name=f"lease-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def sweep_expired_leases() -> list[NextStep]:
    """Free rows whose step died or whose message was lost, and return the steps to re-enqueue."""
    now = timezone.now()
    # A row waiting without a deadline (written before deadlines were kept) counts from its
    # last update, so nothing can wait forever.
    overdue = Q(lease_expires_at__lt=now) | Q(
        lease_expires_at__isnull=True, updated_at__lt=now - lease_seconds()
    )
    steps: list[NextStep] = []
    for model, step_for_status in ((Brief, BRIEF_STEP_FOR_STATUS), (Take, TAKE_STEP_FOR_STATUS)):
        rows = model.objects.filter(overdue, status__in=step_for_status)
        if model is Take:
            rows = rows.exclude(shot__brief__status=Brief.Status.CANCELLED)
        for pk, status, expires in rows.values_list("pk", "status", "lease_expires_at"):
            # Clearing the owner lets the re-enqueued step claim at once; the new deadline
            # stops the next sweep from enqueueing it again while it waits in the queue.
            unchanged = Q(lease_expires_at=expires) if expires else Q(lease_expires_at__isnull=True)
            freed = model.objects.filter(unchanged, pk=pk, status=status).update(
                lease_owner="", lease_expires_at=now + lease_seconds()
            )
            if freed:
                steps.append(NextStep(step_for_status[status], pk))
    if steps:
        logger.warning("sweeper re-enqueued %d step(s) with expired leases", len(steps))
    return steps


def worker_name() -> str:
    """Name this process for leases and Handoff rows."""
    return f"{socket.gethostname()}:{os.getpid()}"
