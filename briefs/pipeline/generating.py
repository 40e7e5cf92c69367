"""The generate step: start (once, under an idempotency key), poll, and store the clip."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from briefs import checks
from briefs.models import Brief, Shot, Take
from briefs.pipeline.budget import (
    estimate_take_cost,
    release_reservation,
    reserve_budget,
    stop_for_budget,
)
from briefs.pipeline.context import Providers
from briefs.pipeline.handoffs import Clock, attempt_number, log_handoff
from briefs.pipeline.leases import claim, finish, lease_seconds, move
from briefs.pipeline.planning import references_for
from briefs.pipeline.routing import after_failed_take, retry_take_step
from briefs.pipeline.scheduling import NextStep
from briefs.pipeline.states import BRIEF_FINISHED, LeaseLost, Outcome, Step
from briefs.pipeline.takes import set_shot_status
from studio.ai import media
from studio.ai.protocols import Generator
from studio.ai.types import (
    GenerationRequest,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)


def generate(take_id: int, *, owner: str, providers: Providers) -> list[NextStep]:
    """Start (or resume) the take's generation, poll it, and store the clip when it is done."""
    statuses = (Take.Status.QUEUED, Take.Status.GENERATING)
    if not claim(Take, take_id, statuses, owner=owner, status=Take.Status.GENERATING):
        return []
    clock = Clock()
    take = Take.objects.select_related("shot__brief__ip").get(pk=take_id)
    brief = take.shot.brief
    generator = providers.get_generator()
    attempt = attempt_number(brief_id=brief.pk, step=Step.GENERATE, take_id=take_id)
    try:
        if brief.status in BRIEF_FINISHED:
            with transaction.atomic():
                release_reservation(take)
                finish(Take, take_id, owner=owner, status=Take.Status.CANCELLED, reserved_cost=0)
            return []
        if not take.operation_id:
            if take.start_pending and not getattr(generator, "start_is_idempotent", False):
                return _route_unknown_start(take, owner, clock, attempt)
            if not reserve_budget(take, generator, owner):
                return stop_for_budget(take, owner, clock)
            take.operation_id = _start_generation(take, generator, owner)
        status = generator.poll(take.operation_id)
        if not status.done:
            wait = settings.PIPELINE_POLL_SECONDS
            move(
                Take,
                take_id,
                owner=owner,
                lease_expires_at=timezone.now() + timedelta(seconds=wait) + lease_seconds(),
            )
            return [NextStep("generate", take_id, countdown=wait)]
        if status.video is None:
            reason = (
                f"the safety filter removed the clip: {status.filtered_reason}"
                if status.filtered_reason
                else f"the generator failed: {status.error}"
            )
            # A safety filter answers the prompt, not chance: a person must rewrite it.
            result = checks.CheckResult(
                passed=False,
                confidence=1.0,
                reasons=(reason,),
                retryable=not status.filtered_reason,
            )
            return after_failed_take(
                take, result, owner, clock, step=Step.GENERATE, attempt=attempt
            )
        return _store_clip(take, generator, status.video, owner, clock, attempt)
    except TransientProviderError as exc:
        return retry_take_step(take, Step.GENERATE, exc, clock, attempt, owner)
    except media.MediaError as exc:
        result = checks.CheckResult(False, 1.0, (f"the generator returned no usable clip: {exc}",))
        return after_failed_take(take, result, owner, clock, step=Step.GENERATE, attempt=attempt)
    except PermanentProviderError as exc:
        result = checks.CheckResult(
            passed=False, confidence=1.0, reasons=(f"the generator refused: {exc}",)
        )
        return after_failed_take(take, result, owner, clock, step=Step.GENERATE, attempt=attempt)
    except LeaseLost:
        return []


def _start_generation(take: Take, generator: Generator, owner: str) -> str:
    """Start the take's operation under its idempotency key and remember the operation id."""
    shot, brief = take.shot, take.shot.brief
    # The cast's references lead: a generator builds the scene from its first (key) reference.
    assets = sorted(
        take.references.prefetch_related("characters"), key=lambda a: not a.characters.all()
    )
    palette = tuple(dict.fromkeys([*brief.ip.palette, *(c for a in assets for c in a.palette)]))
    request = GenerationRequest(
        prompt=take.prompt,
        negative_prompt=take.negative_prompt,
        camera=shot.camera,
        duration_s=shot.duration_s,
        aspect_ratio=brief.aspect_ratio,
        seed=take.seed,
        palette=palette,
        reference_images=tuple(r.image_path for r in references_for(assets) if r.image_path),
        idempotency_key=str(take.idempotency_key),
        sound=brief.sound,
        audio=take.audio if brief.wants_sound else "",
    )
    config = dataclasses.asdict(request) | {"started_at": timezone.now().isoformat()}
    # The intent is committed before the paid call, so a crash between the two is visible.
    if not Take.objects.filter(pk=take.pk, lease_owner=owner).update(
        config=config,
        provider=generator.__class__.__name__,
        model=generator.model,
        attempts=F("attempts") + 1,
        start_pending=True,
    ):
        raise LeaseLost(f"Take {take.pk}")
    try:
        operation_id = generator.start(request)
    except ProviderError as exc:
        if not getattr(exc, "may_have_run", False):  # refused: no job was started
            Take.objects.filter(pk=take.pk, lease_owner=owner).update(start_pending=False)
        raise
    if settings.PIPELINE_STEP_DELAY_S:
        # A slow step on purpose, for the crash test (0 everywhere else).
        time.sleep(settings.PIPELINE_STEP_DELAY_S)
    # The job exists and is billed: record it even if our lease was taken meanwhile.
    Take.objects.filter(pk=take.pk, operation_id="").update(
        operation_id=operation_id,
        start_pending=False,
        billed_generations=F("billed_generations") + 1,
    )
    if not Take.objects.filter(pk=take.pk, lease_owner=owner).exists():
        raise LeaseLost(f"Take {take.pk}")
    return operation_id


def _route_unknown_start(take: Take, owner: str, clock: Clock, attempt: int) -> list[NextStep]:
    """Hand a take whose paid start may have run, unrecorded, to a human instead of paying again."""
    started = _started_at(take)
    reason = (
        f"A paid generation may already be running: attempt {take.attempts} was started"
        f"{f' at {started:%Y-%m-%d %H:%M:%S} UTC' if started else ''} but its operation id was "
        "never saved (the worker stopped). Starting again could pay twice: check the provider's "
        "console, then re-prompt or retry."
    )
    with transaction.atomic():
        # Count the reserved estimate as spent: the budget must not assume the job was free.
        Brief.objects.filter(pk=take.shot.brief_id).update(
            spent=F("spent") + take.reserved_cost, reserved=F("reserved") - take.reserved_cost
        )
        Take.objects.filter(pk=take.pk).update(cost=take.reserved_cost, reserved_cost=0)
    result = checks.CheckResult(passed=False, confidence=1.0, reasons=(reason,), retryable=False)
    return after_failed_take(take, result, owner, clock, step=Step.GENERATE, attempt=attempt)


def _store_clip(
    take: Take, generator: Generator, video: bytes, owner: str, clock: Clock, attempt: int
) -> list[NextStep]:
    """Save the clip and its poster, settle the cost, and hand the take to the checks."""
    poster = media.poster_png(video)
    cost = estimate_take_cost(generator, take.shot.duration_s)
    take.media.save("take.mp4", ContentFile(video), save=False)
    take.poster.save("poster.png", ContentFile(poster), save=False)
    try:
        return _hand_to_checks(take, generator, video, owner, clock, attempt, cost)
    except LeaseLost:
        # Another worker owns the take now and stores its own copy: ours would be orphaned.
        take.media.delete(save=False)
        take.poster.delete(save=False)
        raise


def _hand_to_checks(
    take: Take,
    generator: Generator,
    video: bytes,
    owner: str,
    clock: Clock,
    attempt: int,
    cost: Decimal,
) -> list[NextStep]:
    with transaction.atomic():
        move(
            Take,
            take.pk,
            owner=owner,
            status=Take.Status.CHECKING,
            media=take.media.name,
            poster=take.poster.name,
            byte_size=len(video),
            cost=cost,
            reserved_cost=0,
        )
        set_shot_status(take.shot_id, Shot.Status.CHECKING, only_if_current=take)
        Brief.objects.filter(pk=take.shot.brief_id).update(
            spent=F("spent") + cost, reserved=F("reserved") - take.reserved_cost
        )
        log_handoff(
            brief_id=take.shot.brief_id,
            shot_id=take.shot_id,
            take_id=take.pk,
            step=Step.GENERATE,
            outcome=Outcome.PASSED,
            clock=Clock(started_at=_started_at(take) or clock.started_at, t0=clock.t0),
            owner=owner,
            attempt=attempt,
            confidence=1.0,
            cost=cost,
            model=generator.model,
            detail={"operation": take.operation_id, "bytes": len(video)},
        )
    return [NextStep("check", take.pk)]


def _started_at(take: Take) -> datetime | None:
    started = take.config.get("started_at") if take.config else None
    return datetime.fromisoformat(started) if started else None
