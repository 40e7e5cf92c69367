"""The plan step and the plan gate: the brief becomes checked shots and their first takes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from briefs import checks
from briefs.models import Brief, Shot
from briefs.pipeline.context import Providers
from briefs.pipeline.grounding import characters_by_name, cleared_references, ground_shot
from briefs.pipeline.handoffs import Clock, attempt_number, log_handoff
from briefs.pipeline.leases import claim, finish, lease_seconds, move
from briefs.pipeline.routing import retry_brief_step
from briefs.pipeline.scheduling import NextStep, schedule
from briefs.pipeline.settlement import settle_brief
from briefs.pipeline.states import InvalidTransitionError, LeaseLost, Outcome, Step
from briefs.pipeline.takes import first_takes, set_shot_status
from studio.ai.pricing import cost_for
from studio.ai.types import (
    PermanentProviderError,
    Plan,
    PlanRequest,
    Reference,
    ShotSpec,
    TransientProviderError,
)


def references_for(assets: Iterable[Any]) -> list[Reference]:
    """Turn catalog assets into the model boundary's Reference values."""
    return [
        Reference(
            asset_id=asset.pk,
            title=asset.title,
            text=" ".join(p for p in (asset.description, asset.caption) if p),
            image_path=_image_path(asset),
            palette=tuple(asset.palette or ()),
            characters=tuple(character.name for character in asset.characters.all()),
        )
        for asset in assets
    ]


def _image_path(asset: Any) -> str | None:
    """Return a local file path for the asset's image, copying it out of remote storage."""
    field = asset.thumbnail or (asset.file if asset.mime_type.startswith("image/") else None)
    if not field:
        return None
    try:
        return field.path
    except NotImplementedError:
        cache = Path(settings.STATE_DIR) / "reference-cache"
        target = cache / field.name.replace("/", "_")
        if not target.exists():
            cache.mkdir(parents=True, exist_ok=True)
            with field.open("rb") as handle:
                target.write_bytes(handle.read())
        return str(target)


def plan(brief_id: int, *, owner: str, providers: Providers) -> list[NextStep]:
    """Plan the brief's shots, check the plan, and create the shots (and their first takes)."""
    if not claim(Brief, brief_id, (Brief.Status.PLANNING,), owner=owner):
        return []
    clock = Clock()
    brief = Brief.objects.select_related("ip").get(pk=brief_id)
    attempt = attempt_number(brief_id=brief_id, step=Step.PLAN)
    assets = list(brief.references.prefetch_related("characters"))
    planner = providers.get_planner()
    request = PlanRequest(
        title=brief.title,
        beat=brief.beat,
        tone=brief.tone,
        shot_count=brief.shot_count,
        aspect_ratio=brief.aspect_ratio,
        seconds_per_shot=brief.seconds_per_shot,
        negative_prompt=brief.negative_prompt,
        ip_name=brief.ip.name,
        style_notes=brief.ip.style_notes,
        palette=tuple(brief.ip.palette or ()),
        references=tuple(references_for(assets)),
        characters=tuple(brief.ip.characters.values_list("name", flat=True)),
        sound=brief.sound,
    )
    try:
        answer: Plan | None = planner.plan(request)
        failure: tuple[str, ...] = ()
    except TransientProviderError as exc:
        return retry_brief_step(brief, Step.PLAN, exc, clock, attempt, owner)
    except PermanentProviderError as exc:  # malformed output included: asking again may help
        answer, failure = None, (f"planner failed: {exc}",)
    if answer is not None:
        result = checks.check_plan(
            plan=answer,
            shot_count=brief.shot_count,
            known_reference_ids={asset.pk for asset in assets},
            wants_sound=brief.wants_sound,
        )
        cost = cost_for(
            kind="input_tokens", model=answer.model, quantity=answer.input_tokens
        ) + cost_for(kind="output_tokens", model=answer.model, quantity=answer.output_tokens)
    else:
        result = checks.CheckResult(passed=False, confidence=0.0, reasons=failure)
        cost = Decimal(0)
    retry = not result.passed and attempt <= settings.PIPELINE_PLAN_RETRIES
    next_steps: list[NextStep] = []
    try:
        with transaction.atomic():
            if result.passed:
                gate = brief.requires_plan_approval
                move(
                    Brief,
                    brief_id,
                    owner=owner,
                    status=Brief.Status.AWAITING_PLAN_APPROVAL if gate else Brief.Status.GENERATING,
                    status_reason="The shot plan waits for approval." if gate else "",
                    lease_expires_at=None if gate else timezone.now() + lease_seconds(),
                    spent=F("spent") + cost,
                )
                grounded = _ground(brief, _create_shots(brief, answer), owner)
                if not gate:
                    next_steps = first_takes(grounded)
                    if not grounded:
                        settle_brief(brief_id)
            elif retry:
                move(Brief, brief_id, owner=owner, spent=F("spent") + cost)
                next_steps = [NextStep("plan", brief_id)]
            else:
                finish(
                    Brief,
                    brief_id,
                    owner=owner,
                    status=Brief.Status.NEEDS_ATTENTION,
                    status_reason="The plan failed its checks: " + "; ".join(result.reasons),
                    spent=F("spent") + cost,
                )
            log_handoff(
                brief_id=brief_id,
                step=Step.PLAN,
                outcome=Outcome.PASSED
                if result.passed
                else (Outcome.RETRIED if retry else Outcome.ROUTED),
                clock=clock,
                owner=owner,
                attempt=attempt,
                confidence=result.confidence,
                reasons=result.reasons,
                cost=cost,
                model=planner.model,
                detail={
                    "shots": [s.prompt[:120] for s in answer.shots] if answer else [],
                    "checks": result.findings_json(),
                },
            )
    except LeaseLost:
        return []
    return next_steps


def _clamp(model: type, field: str, value: str) -> str:
    """Cut a model's answer to the column it goes into: a long answer is not a crash."""
    limit = model._meta.get_field(field).max_length
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _create_shots(brief: Brief, answer: Plan) -> list[tuple[Shot, ShotSpec]]:
    shots = Shot.objects.bulk_create(
        Shot(
            brief=brief,
            order=order,
            prompt=spec.prompt,
            negative_prompt=spec.negative_prompt or brief.negative_prompt,
            camera=_clamp(Shot, "camera", spec.camera),
            duration_s=spec.duration_s,
            audio=spec.audio if brief.wants_sound else "",
        )
        for order, spec in enumerate(answer.shots, 1)
    )
    return list(zip(shots, answer.shots, strict=True))


def _ground(
    brief: Brief, planned: Sequence[tuple[Shot, ShotSpec]], owner: str
) -> list[tuple[Shot, list[int]]]:
    """Ground every planned shot; return the shots that may be generated, with references."""
    cleared = cleared_references(brief)
    by_name = characters_by_name(brief)
    ready = []
    for shot, spec in planned:
        clock = Clock()
        grounding = ground_shot(
            brief,
            order=shot.order,
            names=spec.characters,
            reference_ids=spec.reference_ids,
            cleared=cleared,
            by_name=by_name,
        )
        shot.references.set(grounding.reference_ids)
        shot.characters.set(grounding.characters)
        result = grounding.result
        if result.passed:
            ready.append((shot, grounding.reference_ids))
        else:
            set_shot_status(shot.pk, Shot.Status.FAILED, reason="; ".join(result.reasons))
        log_handoff(
            brief_id=brief.pk,
            shot_id=shot.pk,
            step=Step.GROUND,
            outcome=Outcome.PASSED if result.passed else Outcome.ROUTED,
            clock=clock,
            owner=owner,
            confidence=result.confidence,
            reasons=result.reasons,
            detail={"checks": result.findings_json(), "references": grounding.reference_ids},
        )
    return ready


def approve_plan(*, brief_id: int, user: Any) -> Brief:
    """Let an approved plan through the gate: create the first takes and start generating."""
    clock = Clock()
    with transaction.atomic():
        moved = Brief.objects.filter(
            pk=brief_id, status=Brief.Status.AWAITING_PLAN_APPROVAL
        ).update(
            status=Brief.Status.GENERATING,
            status_reason="",
            lease_owner="",
            lease_expires_at=timezone.now() + lease_seconds(),
            updated_at=timezone.now(),
        )
        if moved != 1:
            raise InvalidTransitionError("This plan is not waiting for approval.")
        # Shots that failed grounding wait for a person, not for the gate.
        shots = list(
            Shot.objects.filter(brief_id=brief_id, status=Shot.Status.PLANNED).prefetch_related(
                "references"
            )
        )
        schedule(first_takes([(shot, [r.pk for r in shot.references.all()]) for shot in shots]))
        log_handoff(
            brief_id=brief_id,
            step=Step.PLAN_GATE,
            outcome=Outcome.PASSED,
            clock=clock,
            owner=f"user:{user.get_username()}",
            confidence=1.0,
            detail={"approved_by": user.pk, "shots": len(shots)},
        )
    return Brief.objects.get(pk=brief_id)
