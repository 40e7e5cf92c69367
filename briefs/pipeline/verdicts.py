"""What review calls: verdicts on takes, re-prompts and choosing the current take."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from briefs.models import Brief, Shot, Take
from briefs.pipeline.budget import check_budget_for
from briefs.pipeline.checking import CONTINUITY_TASK
from briefs.pipeline.handoffs import Clock, log_handoff
from briefs.pipeline.scheduling import NextStep, schedule
from briefs.pipeline.settlement import update_brief_after_review
from briefs.pipeline.states import (
    BRIEF_STEP_FOR_STATUS,
    SHOT_STATUS_FOR_TAKE,
    TAKE_REVIEWABLE,
    TAKE_STEP_FOR_STATUS,
    InvalidTransitionError,
    Outcome,
    PipelineError,
    StaleTakeError,
    Step,
)
from briefs.pipeline.takes import new_take, set_shot_status
from retrieval.selectors import reference_problem
from studio.ai import media
from studio.celery import send_after_commit


def record_take_verdict(
    *,
    take_id: int,
    expected_version: int,
    verdict: str,
    reason: str = "",
    actor: str = "review",
    automatic: bool = False,
) -> Take:
    """Record an approval or rejection of the take version the decider saw.

    `actor` names the decider on the Handoff row; `automatic` logs an approval as auto_approved.
    """
    if verdict not in ("approved", "rejected"):
        raise ValueError(f"verdict must be approved or rejected, not {verdict!r}")
    clock = Clock()
    status = Take.Status.APPROVED if verdict == "approved" else Take.Status.REJECTED
    with transaction.atomic():
        take = _move_reviewed_take(take_id, expected_version, status, reason)
        set_shot_status(
            take.shot_id, SHOT_STATUS_FOR_TAKE[status], reason=reason, only_if_current=take
        )
        log_handoff(
            brief_id=take.shot.brief_id,
            shot_id=take.shot_id,
            take_id=take.pk,
            step=Step.REVIEW,
            outcome=(
                Outcome.FAILED
                if verdict == "rejected"
                else (Outcome.AUTO_APPROVED if automatic else Outcome.PASSED)
            ),
            clock=clock,
            owner=actor,
            confidence=take.confidence,
            reasons=[reason] if reason else [],
            detail={"verdict": verdict, "version": take.version},
        )
        update_brief_after_review(take.shot.brief_id)
    return take


def route_take_to_lead(
    *, take_id: int, expected_version: int, reason: str, actor: str = "review"
) -> Take:
    """Route a take whose directors disagree to a lead director, naming both verdicts."""
    clock = Clock()
    with transaction.atomic():
        take = _move_reviewed_take(take_id, expected_version, Take.Status.ROUTED, reason)
        set_shot_status(take.shot_id, Shot.Status.NEEDS_HUMAN, reason=reason, only_if_current=take)
        log_handoff(
            brief_id=take.shot.brief_id,
            shot_id=take.shot_id,
            take_id=take.pk,
            step=Step.REVIEW,
            outcome=Outcome.ROUTED,
            clock=clock,
            owner=actor,
            confidence=take.confidence,
            reasons=[reason],
            detail={"verdict": "disputed", "version": take.version},
        )
        update_brief_after_review(take.shot.brief_id)
    return take


def _move_reviewed_take(take_id: int, expected_version: int, status: str, reason: str) -> Take:
    """Move a reviewable take at the version its decider saw; raise when it changed or is busy."""
    updated = Take.objects.filter(
        pk=take_id, version=expected_version, status__in=TAKE_REVIEWABLE
    ).update(
        status=status,
        status_reason=reason,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    take = Take.objects.select_related("shot").get(pk=take_id)
    if not updated:
        if take.version != expected_version:
            raise StaleTakeError(take)
        raise InvalidTransitionError(
            f"Take {take.number} is {take.get_status_display().lower()}; "
            "it can be reviewed once it is ready."
        )
    return take


def start_new_take(
    *,
    shot_id: int,
    prompt: str,
    negative_prompt: str,
    reference_ids: Sequence[int],
    user: Any,
    parent_take_id: int | None,
    audio: str | None = None,
) -> Take:
    """Re-prompt a shot: add a take that becomes current and generate it after commit.

    `audio` is the new take's audio line (None keeps the shot's).
    """
    if not prompt.strip():
        raise PipelineError("A new take needs a prompt.")
    with transaction.atomic():
        shot = _shot_free_for_a_new_take(shot_id)
        brief = shot.brief
        problem = reference_problem(
            reference_ids, ip_id=brief.ip_id, territory=brief.territory, on_date=brief.release_date
        )
        if problem:
            raise PipelineError(problem)
        take = new_take(
            shot,
            prompt=prompt,
            negative_prompt=negative_prompt,
            reference_ids=reference_ids,
            audio=audio,
            user=user,
            parent_id=parent_take_id,
        )
        brief = _reopen_brief_for_a_new_take(shot.brief_id)
        check_budget_for(brief, shot)
        schedule([NextStep("generate", take.pk)])
    return take


def add_uploaded_take(*, shot_id: int, user: Any, video: bytes, file_name: str) -> Take:
    """Add a clip made elsewhere as the shot's next take; it goes through the same checks.

    The caller has checked the bytes are a playable video (media.inspect_upload).
    """
    suffix = Path(file_name).suffix.lower()
    stored_name = f"take{suffix if suffix in ('.mp4', '.mov', '.m4v', '.webm') else '.mp4'}"
    clock = Clock()
    take: Take | None = None
    try:
        with transaction.atomic():
            shot = _shot_free_for_a_new_take(shot_id)
            current = shot.takes.filter(is_current=True).first()
            take = new_take(
                shot,
                prompt=current.prompt if current else shot.prompt,
                negative_prompt=current.negative_prompt if current else shot.negative_prompt,
                reference_ids=list(shot.references.values_list("pk", flat=True)),
                user=user,
                parent_id=current.pk if current else None,
            )
            take.media.save(stored_name, ContentFile(video), save=False)
            take.poster.save("poster.png", ContentFile(media.poster_png(video)), save=False)
            Take.objects.filter(pk=take.pk).update(
                status=Take.Status.CHECKING,
                media=take.media.name,
                poster=take.poster.name,
                byte_size=len(video),
                provider="upload",
                model="uploaded",
                config={"uploaded_file": file_name[:200], "uploaded_by": user.get_username()},
            )
            set_shot_status(shot.pk, Shot.Status.CHECKING)
            _reopen_brief_for_a_new_take(shot.brief_id)
            log_handoff(
                brief_id=shot.brief_id,
                shot_id=shot.pk,
                take_id=take.pk,
                step=Step.GENERATE,
                outcome=Outcome.PASSED,
                clock=clock,
                owner=f"user:{user.get_username()}",
                confidence=1.0,
                model="uploaded",
                detail={"uploaded_file": file_name[:200], "bytes": len(video)},
            )
            schedule([NextStep("check", take.pk)])
    except BaseException:
        # The rows rolled back; the files written for them must go too.
        if take is not None:
            take.media.delete(save=False)
            take.poster.delete(save=False)
        raise
    return Take.objects.get(pk=take.pk)


def _shot_free_for_a_new_take(shot_id: int) -> Shot:
    """Lock the shot's current take and refuse while one is still being made."""
    shot = Shot.objects.select_related("brief").get(pk=shot_id)
    # Lock the current take first (the lock order of every step: take, shot, brief); a second
    # submit waits here, then sees the take the first one created.
    list(Take.objects.select_for_update().filter(shot_id=shot_id, is_current=True))
    in_flight = Take.objects.filter(
        shot_id=shot_id, is_current=True, status__in=TAKE_STEP_FOR_STATUS
    ).first()
    if in_flight is not None:
        raise InvalidTransitionError(
            f"Take {in_flight.number} of this shot is still "
            f"{in_flight.get_status_display().lower()}; wait for it before adding another, "
            "so two takes are never made at once for one shot."
        )
    return shot


def _reopen_brief_for_a_new_take(brief_id: int) -> Brief:
    """Lock the brief, refuse when it cannot take a new take, and put it back in production."""
    brief = Brief.objects.select_for_update().get(pk=brief_id)
    if brief.status in (Brief.Status.CANCELLED, Brief.Status.FAILED):
        raise InvalidTransitionError(f"The brief is {brief.get_status_display().lower()}.")
    if brief.status in (*BRIEF_STEP_FOR_STATUS, Brief.Status.AWAITING_PLAN_APPROVAL):
        raise InvalidTransitionError("The brief has no approved plan yet.")
    Brief.objects.filter(pk=brief.pk).exclude(status=Brief.Status.GENERATING).update(
        status=Brief.Status.GENERATING,
        status_reason="",
        completed_at=None,
        updated_at=timezone.now(),
    )
    return brief


def set_current_take(*, take_id: int) -> Take:
    """Make an earlier (or later) take the shot's current one; the shot follows its status."""
    with transaction.atomic():
        take = Take.objects.select_for_update().get(pk=take_id)
        if not take.is_current:
            now = timezone.now()
            Take.objects.filter(shot_id=take.shot_id, is_current=True).update(
                is_current=False, updated_at=now
            )
            Take.objects.filter(pk=take_id).update(
                is_current=True, version=F("version") + 1, updated_at=now
            )
            take.refresh_from_db()
            set_shot_status(take.shot_id, SHOT_STATUS_FOR_TAKE[take.status])
            update_brief_after_review(take.shot.brief_id)
            # The shot now shows another take: compare it with the other shots.
            send_after_commit(CONTINUITY_TASK, take.shot.brief_id)
    return take
