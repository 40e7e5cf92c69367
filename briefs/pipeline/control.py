"""What producers call: cancel a brief, or run again what failed."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from briefs.models import Brief, Shot, Take
from briefs.pipeline.budget import check_budget_for
from briefs.pipeline.grounding import characters_by_name, cleared_references, reground
from briefs.pipeline.handoffs import Clock, log_handoff
from briefs.pipeline.leases import lease_seconds
from briefs.pipeline.scheduling import NextStep, schedule
from briefs.pipeline.states import (
    BRIEF_FINISHED,
    SHOT_UNSETTLED,
    TAKE_STEP_FOR_STATUS,
    InvalidTransitionError,
    Outcome,
    Step,
)
from briefs.pipeline.takes import new_take, set_shot_status


def cancel_brief(*, brief_id: int, reason: str) -> Brief:
    """Stop a brief: unfinished shots and takes are cancelled and their reservations released."""
    now = timezone.now()
    # Rows are locked take, shot, brief: the order every step uses, so none can deadlock.
    with transaction.atomic():
        Take.objects.filter(shot__brief_id=brief_id, status__in=TAKE_STEP_FOR_STATUS).update(
            status=Take.Status.CANCELLED,
            reserved_cost=0,
            lease_owner="",
            lease_expires_at=None,
            updated_at=now,
        )
        Shot.objects.filter(brief_id=brief_id, status__in=SHOT_UNSETTLED).update(
            status=Shot.Status.CANCELLED, updated_at=now
        )
        moved = (
            Brief.objects.filter(pk=brief_id)
            .exclude(status__in=BRIEF_FINISHED)
            .update(
                status=Brief.Status.CANCELLED,
                status_reason=reason,
                reserved=0,
                lease_owner="",
                lease_expires_at=None,
                updated_at=now,
            )
        )
        if moved != 1:
            raise InvalidTransitionError("This brief has already finished.")
    return Brief.objects.get(pk=brief_id)


def retry_failed(*, brief_id: int, user: Any) -> Brief:
    """Run again what failed: the whole front of the pipeline, or new takes for failed shots."""
    with transaction.atomic():
        brief = Brief.objects.select_for_update().get(pk=brief_id)
        retryable = (Brief.Status.NEEDS_ATTENTION, Brief.Status.FAILED, Brief.Status.IN_REVIEW)
        if brief.status not in retryable:
            raise InvalidTransitionError("Nothing has failed on this brief.")
        shots = list(
            brief.shots.filter(status__in=(Shot.Status.FAILED, Shot.Status.NEEDS_HUMAN))
            .prefetch_related("references", "characters")
            .select_related("brief__ip")
        )
        now = timezone.now()
        if not brief.shots.exists():
            Brief.objects.filter(pk=brief_id).update(
                status=Brief.Status.QUEUED,
                status_reason="",
                lease_owner="",
                lease_expires_at=now + lease_seconds(),
                updated_at=now,
            )
            schedule([NextStep("retrieve", brief_id)])
            return Brief.objects.get(pk=brief_id)
        if not shots:
            raise InvalidTransitionError("No shot has failed on this brief.")
        shots = _regrounded(shots, owner=f"user:{user.get_username()}")
        for shot in shots:
            check_budget_for(brief, shot)
        Brief.objects.filter(pk=brief_id).update(
            status=Brief.Status.GENERATING, status_reason="", updated_at=now
        )
        takes = [
            new_take(
                shot,
                prompt=shot.prompt,
                negative_prompt=shot.negative_prompt,
                reference_ids=[asset.pk for asset in shot.references.all()],
                user=user,
            )
            for shot in shots
        ]
        schedule(NextStep("generate", take.pk) for take in takes)
    return Brief.objects.get(pk=brief_id)


def _regrounded(shots: list[Shot], *, owner: str) -> list[Shot]:
    """Ground again the shots that never got a take; raise if none of the failed can go on."""
    ungrounded = [shot for shot in shots if not shot.takes.exists()]
    if not ungrounded:
        return shots
    cleared = cleared_references(shots[0].brief)
    by_name = characters_by_name(shots[0].brief)
    still = []
    for shot in ungrounded:
        clock = Clock()
        grounding = reground(shot, cleared, by_name)
        if grounding.result.passed:
            shot.references.set(grounding.reference_ids)
        else:
            still.append(shot)
            set_shot_status(shot.pk, Shot.Status.FAILED, reason="; ".join(grounding.result.reasons))
        log_handoff(
            brief_id=shot.brief_id,
            shot_id=shot.pk,
            step=Step.GROUND,
            outcome=Outcome.PASSED if grounding.result.passed else Outcome.ROUTED,
            clock=clock,
            owner=owner,
            confidence=grounding.result.confidence,
            reasons=grounding.result.reasons,
            detail={"checks": grounding.result.findings_json()},
        )
    retryable = [shot for shot in shots if shot not in still]
    if not retryable:
        raise InvalidTransitionError(
            "No failed shot can be generated yet: "
            + "; ".join(
                shot.status_reason for shot in Shot.objects.filter(pk__in=[s.pk for s in still])
            )
        )
    return retryable
