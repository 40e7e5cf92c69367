"""What happens after a step fails: retry later, re-render once, or route to a human."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from briefs import checks
from briefs.models import Brief, Shot, Take
from briefs.pipeline.budget import release_reservation
from briefs.pipeline.handoffs import Clock, backoff_seconds, log_handoff
from briefs.pipeline.leases import finish, lease_seconds, move
from briefs.pipeline.scheduling import NextStep
from briefs.pipeline.settlement import settle_brief
from briefs.pipeline.states import LeaseLost, Outcome
from briefs.pipeline.takes import new_take, set_shot_status


def route_brief(brief_id: int, owner: str, reasons: Sequence[str]) -> None:
    finish(
        Brief,
        brief_id,
        owner=owner,
        status=Brief.Status.NEEDS_ATTENTION,
        status_reason="; ".join(reasons),
    )


def retry_brief_step(
    brief: Brief, step: str, exc: Exception, clock: Clock, attempt: int, owner: str
) -> list[NextStep]:
    """Retry a transient failure later, or route the brief once the attempts run out."""
    retry_after = getattr(exc, "retry_after", None)
    give_up = attempt >= settings.PIPELINE_MAX_ATTEMPTS
    delay = backoff_seconds(attempt, retry_after)
    try:
        with transaction.atomic():
            if give_up:
                route_brief(brief.pk, owner, [f"{step} kept failing: {exc}"])
            else:
                # Keep the row out of the sweeper's hands until the retry is due.
                move(
                    Brief,
                    brief.pk,
                    owner=owner,
                    lease_expires_at=timezone.now() + timedelta(seconds=delay) + lease_seconds(),
                )
            log_handoff(
                brief_id=brief.pk,
                step=step,
                outcome=Outcome.ROUTED if give_up else Outcome.RETRIED,
                clock=clock,
                owner=owner,
                attempt=attempt,
                reasons=[str(exc)],
                detail={"retry_in_s": None if give_up else round(delay, 2)},
            )
    except LeaseLost:
        return []
    return [] if give_up else [NextStep(step, brief.pk, countdown=delay)]


def retry_take_step(
    take: Take, step: str, exc: Exception, clock: Clock, attempt: int, owner: str
) -> list[NextStep]:
    """Retry a transient failure later, or route the take once the attempts run out."""
    if attempt >= settings.PIPELINE_MAX_ATTEMPTS:
        result = checks.CheckResult(
            passed=False,
            confidence=1.0,
            reasons=(f"{step} kept failing after {attempt} attempts: {exc}",),
            retryable=False,
        )
        return after_failed_take(take, result, owner, clock, step=step, attempt=attempt)
    retry_after = getattr(exc, "retry_after", None)
    delay = backoff_seconds(attempt, retry_after)
    try:
        with transaction.atomic():
            move(
                Take,
                take.pk,
                owner=owner,
                lease_expires_at=timezone.now() + timedelta(seconds=delay) + lease_seconds(),
            )
            log_handoff(
                brief_id=take.shot.brief_id,
                shot_id=take.shot_id,
                take_id=take.pk,
                step=step,
                outcome=Outcome.RETRIED,
                clock=clock,
                owner=owner,
                attempt=attempt,
                reasons=[str(exc)],
                detail={"retry_in_s": round(delay, 2), "retry_after": retry_after},
            )
    except LeaseLost:
        return []
    return [NextStep(step, take.pk, countdown=delay)]


def after_failed_take(
    take: Take,
    result: checks.CheckResult,
    owner: str,
    clock: Clock,
    *,
    step: str,
    attempt: int = 1,
    measured: dict[str, Any] | None = None,
) -> list[NextStep]:
    """Render a fresh take when a retry can help and retakes remain; else route to a human."""
    retakes = Take.objects.filter(shot_id=take.shot_id, created_by__isnull=True).count() - 1
    retry = (
        result.retryable
        and take.created_by_id is None
        and retakes < settings.PIPELINE_AUTO_RETAKES
        and take.is_current
    )
    reasons = "; ".join(result.reasons)
    next_steps: list[NextStep] = []
    try:
        with transaction.atomic():
            release_reservation(take)
            if retry:
                finish(
                    Take,
                    take.pk,
                    owner=owner,
                    status=Take.Status.FAILED,
                    status_reason=f"Failed checks, re-rendered automatically: {reasons}",
                    checks=result.findings_json(),
                    checks_passed=False,
                    confidence=result.confidence,
                    reserved_cost=0,
                    **(measured or {}),
                )
                retake = new_take(
                    take.shot,
                    prompt=take.prompt,
                    negative_prompt=take.negative_prompt,
                    reference_ids=list(take.references.values_list("pk", flat=True)),
                    audio=take.audio,
                    parent_id=take.pk,
                )
                next_steps = [NextStep("generate", retake.pk)]
            else:
                finish(
                    Take,
                    take.pk,
                    owner=owner,
                    status=Take.Status.ROUTED,
                    status_reason=reasons,
                    checks=result.findings_json(),
                    checks_passed=False,
                    confidence=result.confidence,
                    reserved_cost=0,
                    **(measured or {}),
                )
                set_shot_status(
                    take.shot_id, Shot.Status.NEEDS_HUMAN, reason=reasons, only_if_current=take
                )
            log_handoff(
                brief_id=take.shot.brief_id,
                shot_id=take.shot_id,
                take_id=take.pk,
                step=step,
                outcome=Outcome.RETRIED if retry else Outcome.ROUTED,
                clock=clock,
                owner=owner,
                attempt=attempt,
                confidence=result.confidence,
                reasons=result.reasons,
                # The generate row already carries the take's cost; counting it here doubles it.
                model=take.model,
                detail={"checks": result.findings_json()},
            )
            if not retry:
                settle_brief(take.shot.brief_id)
    except LeaseLost:
        return []
    return next_steps
