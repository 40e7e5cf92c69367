"""The Handoff log: one row per step attempt, the source of every reliability figure."""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from briefs.models import Handoff
from briefs.pipeline.states import Outcome


@dataclass
class Clock:
    started_at: datetime = dataclasses.field(default_factory=timezone.now)
    t0: float = dataclasses.field(default_factory=time.perf_counter)

    @property
    def latency_ms(self) -> int:
        return int((time.perf_counter() - self.t0) * 1000)


def log_handoff(
    *,
    brief_id: int,
    step: str,
    outcome: str,
    clock: Clock,
    owner: str,
    shot_id: int | None = None,
    take_id: int | None = None,
    attempt: int = 1,
    confidence: float | None = None,
    reasons: Sequence[str] = (),
    cost: Decimal = Decimal(0),
    model: str = "",
    detail: dict | None = None,
) -> Handoff:
    return Handoff.objects.create(
        brief_id=brief_id,
        shot_id=shot_id,
        take_id=take_id,
        step=step,
        attempt=attempt,
        outcome=outcome,
        confidence=confidence,
        reasons=list(reasons),
        latency_ms=clock.latency_ms,
        cost=cost,
        model=model,
        worker=owner,
        detail=detail or {},
        started_at=clock.started_at,
        finished_at=timezone.now(),
    )


def attempt_number(*, brief_id: int, step: str, take_id: int | None = None) -> int:
    """Number this attempt: one more than the attempts already logged for the step."""
    done = Handoff.objects.filter(brief_id=brief_id, step=step, take_id=take_id)
    return done.exclude(outcome=Outcome.PASSED).count() + 1


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """Return an exponential, jittered, capped delay; a server's retry-after is a floor."""
    ceiling = min(settings.PIPELINE_BACKOFF_MAX_S, settings.PIPELINE_BACKOFF_BASE_S * 2**attempt)
    delay = random.uniform(ceiling / 2, ceiling)
    return min(settings.PIPELINE_BACKOFF_MAX_S, max(delay, retry_after or 0.0))
