"""Writes for briefs: submit, cancel, retry, the plan gate. Status changes go through pipeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from briefs import pipeline
from briefs.models import Brief, Shot
from briefs.pipeline.checking import CONTINUITY_TASK
from retrieval.selectors import reference_problem
from studio.celery import send_after_commit
from studio.roles import Role
from teams.selectors import has_ip_role


class BriefError(Exception):
    """A brief operation that cannot go ahead; `field` names the form field when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@transaction.atomic
def brief_submit(
    *,
    producer: Any,
    ip: Any,
    title: str,
    beat: str,
    tone: str,
    shot_count: int,
    aspect_ratio: str,
    seconds_per_shot: int,
    territory: str,
    release_date: date,
    negative_prompt: str = "",
    budget_cap: Decimal | None = None,
    requires_plan_approval: bool = False,
    pinned_reference_ids: Sequence[int] = (),
    checklist: Sequence[str] = (),
    required_approvals: int | None = None,
    sound: str = Brief.Sound.AMBIENCE,
) -> Brief:
    """Validate and save a brief, then start the pipeline once the transaction commits."""

    if not has_ip_role(producer, ip.pk, Role.PRODUCER):
        raise BriefError(f"Only {ip}'s producers can submit briefs for it.", field="ip")
    if not 1 <= shot_count <= 24:
        raise BriefError("Choose between 1 and 24 shots.", field="shot_count")
    if seconds_per_shot not in Brief.ShotSeconds.values:
        raise BriefError("Shots last 4, 6 or 8 seconds.", field="seconds_per_shot")
    if aspect_ratio not in Brief.AspectRatio.values:
        raise BriefError("Choose 16:9 or 9:16.", field="aspect_ratio")
    if sound not in Brief.Sound.values:
        raise BriefError("Sound is dialogue, ambience or none.", field="sound")
    if budget_cap is not None and budget_cap <= 0:
        raise BriefError("A budget cap must be more than zero.", field="budget_cap")
    if required_approvals is not None and not 1 <= required_approvals <= 5:
        raise BriefError("From 1 to 5 directors can approve a shot.", field="required_approvals")
    problem = reference_problem(
        pinned_reference_ids, ip_id=ip.pk, territory=territory, on_date=release_date
    )
    if problem:
        raise BriefError(problem, field="pinned_references")
    brief = Brief.objects.create(
        producer=producer,
        ip=ip,
        title=title.strip(),
        beat=beat.strip(),
        tone=tone.strip(),
        shot_count=shot_count,
        aspect_ratio=aspect_ratio,
        seconds_per_shot=seconds_per_shot,
        territory=territory.upper(),
        release_date=release_date,
        negative_prompt=negative_prompt.strip(),
        budget_cap=budget_cap,
        requires_plan_approval=requires_plan_approval,
        checklist=[line.strip() for line in checklist if line.strip()],
        required_approvals=required_approvals,
        sound=sound,
        # If the first message is lost, the sweeper picks the brief up after this deadline.
        lease_expires_at=pipeline.pickup_deadline(),
    )
    brief.pinned_references.set(pinned_reference_ids)
    pipeline.schedule([pipeline.NextStep("retrieve", brief.pk)])
    return brief


def can_manage(user: Any, brief: Brief) -> bool:
    """Tell whether a user may cancel or retry a brief: its producer (or a superuser)."""
    return user.is_superuser or (
        brief.producer_id == user.pk and has_ip_role(user, brief.ip_id, Role.PRODUCER)
    )


def can_edit_plan(user: Any, brief: Brief) -> bool:
    """Tell whether a user may edit and approve the brief's plan: its producer or a director."""
    return can_manage(user, brief) or has_ip_role(user, brief.ip_id, Role.CREATIVE_DIRECTOR)


def can_retry(brief: Brief, shots: Sequence[Shot]) -> bool:
    """Tell whether the brief has something failed that "Retry failed" would run again."""
    if brief.status in (Brief.Status.NEEDS_ATTENTION, Brief.Status.FAILED):
        return True
    stuck = (Shot.Status.FAILED, Shot.Status.NEEDS_HUMAN)
    return brief.status == Brief.Status.IN_REVIEW and any(s.status in stuck for s in shots)


def brief_cancel(*, brief: Brief, user: Any) -> Brief:
    """Cancel a brief on behalf of its producer."""
    if not can_manage(user, brief):
        raise BriefError("Only the brief's producer can cancel it.")
    try:
        return pipeline.cancel_brief(
            brief_id=brief.pk, reason=f"Cancelled by {user.get_full_name() or user.username}."
        )
    except pipeline.PipelineError as exc:
        raise BriefError(str(exc)) from exc


def brief_retry_failed(*, brief: Brief, user: Any) -> Brief:
    """Run the failed parts of a brief again on behalf of its producer."""
    if not can_manage(user, brief):
        raise BriefError("Only the brief's producer can retry it.")
    try:
        return pipeline.retry_failed(brief_id=brief.pk, user=user)
    except pipeline.PipelineError as exc:
        raise BriefError(str(exc)) from exc


@transaction.atomic
def plan_update_and_approve(
    *,
    brief: Brief,
    user: Any,
    prompts: Mapping[int, str],
    approve: bool,
    audio_lines: Mapping[int, str] | None = None,
) -> Brief:
    """Save edited shot prompts (and audio lines) while the plan waits; approve it if asked."""
    if not can_edit_plan(user, brief):
        raise BriefError("Only the brief's producer or a creative director can edit the plan.")
    locked = Brief.objects.select_for_update().get(pk=brief.pk)
    if locked.status != Brief.Status.AWAITING_PLAN_APPROVAL:
        raise BriefError("The plan is no longer waiting for approval.")
    shots = {shot.pk: shot for shot in Shot.objects.filter(brief=locked)}
    for shot_id, prompt in prompts.items():
        if shot_id not in shots:
            raise BriefError("That shot is not part of this brief.")
        if not prompt.strip():
            raise BriefError(
                f"Shot {shots[shot_id].order} needs a prompt.", field=f"shot_{shot_id}"
            )
        shots[shot_id].prompt = prompt.strip()
    for shot_id, line in (audio_lines or {}).items():
        if shot_id not in shots:
            raise BriefError("That shot is not part of this brief.")
        if locked.wants_sound and not line.strip():
            raise BriefError(
                f"Shot {shots[shot_id].order} needs an audio line.", field=f"audio_{shot_id}"
            )
        shots[shot_id].audio = line.strip()
    Shot.objects.bulk_update(shots.values(), ["prompt", "audio"])
    if approve:
        try:
            return pipeline.approve_plan(brief_id=brief.pk, user=user)
        except pipeline.PipelineError as exc:
            raise BriefError(str(exc)) from exc
    return locked


def continuity_measure(*, brief: Brief, user: Any) -> None:
    """Queue the brief's continuity check now (idempotent: measured takes are not redone).

    The check runs by itself when a take becomes ready; this is for takes made before it
    existed, or a sheet someone wants brought up to date.
    """
    if not has_ip_role(user, brief.ip_id, Role.CREATIVE_DIRECTOR, Role.PRODUCER):
        raise BriefError("Only the IP's producers and creative directors can run the check.")
    send_after_commit(CONTINUITY_TASK, brief.pk)
