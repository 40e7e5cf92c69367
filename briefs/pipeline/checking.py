"""The check step: measure the clip, ask the critic, then pass to review, re-render or route."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from briefs import checks, qc, signals
from briefs.models import Shot, Take
from briefs.pipeline.context import Providers
from briefs.pipeline.handoffs import Clock, attempt_number, log_handoff
from briefs.pipeline.leases import claim, finish
from briefs.pipeline.planning import references_for
from briefs.pipeline.routing import after_failed_take, retry_take_step
from briefs.pipeline.scheduling import NextStep
from briefs.pipeline.settlement import settle_brief
from briefs.pipeline.states import LeaseLost, Outcome, Step
from briefs.pipeline.takes import set_shot_status
from studio.ai import media
from studio.ai.types import (
    Critique,
    PermanentProviderError,
    TransientProviderError,
)
from studio.celery import send_after_commit

CONTINUITY_TASK = "briefs.check_continuity"


def check(take_id: int, *, owner: str, providers: Providers) -> list[NextStep]:
    """Measure the clip and ask the critic; pass it to review, re-render it, or route it."""
    if not claim(Take, take_id, (Take.Status.CHECKING,), owner=owner):
        return []
    clock = Clock()
    take = Take.objects.select_related("shot__brief__ip").get(pk=take_id)
    shot, brief = take.shot, take.shot.brief
    attempt = attempt_number(brief_id=brief.pk, step=Step.CHECK, take_id=take_id)
    critic = providers.get_critic()
    assets = list(take.references.prefetch_related("characters"))
    references = references_for(assets)
    # Identity is judged against the references that show a character; style art does not.
    character_images = [
        ref.image_path
        for asset, ref in zip(assets, references, strict=True)
        if ref.image_path and asset.characters.all()
    ]
    # Judge the clip against the palette the generator was asked for.
    palette = list(take.config.get("palette") or brief.ip.palette)
    try:
        with take.media.open("rb") as handle:
            video = handle.read()
        with take.poster.open("rb") as handle:
            poster = handle.read()
        if not settings.PIPELINE_CHECKS_ENABLED:
            # Checks switched off (the benchmark's naive chain): every take goes to review.
            critique = Critique(score=0.0, reasons=("checks switched off",), model="")
            result = checks.CheckResult(True, 0.0, ())
            measured: dict = {}
        else:
            try:
                report = qc.qc_clip(
                    video,
                    expected_duration_s=shot.duration_s,
                    aspect_ratio=brief.aspect_ratio,
                    # Silence is a fault when the brief asked for sound, and fine when it did not.
                    expect_audio=brief.wants_sound,
                    reference_images=character_images,
                    palette=palette,
                )
                frames = media.sample_frames(video)
            except (qc.UnreadableClip, media.MediaError) as exc:
                result = checks.CheckResult(False, 1.0, (f"clip cannot be decoded: {exc}",))
                return after_failed_take(
                    take, result, owner, clock, step=Step.CHECK, attempt=attempt
                )
            critique = critic.critique(
                prompt=take.prompt,
                poster_png=poster,
                references=references,
                frames=frames,
                negative_prompt=take.negative_prompt,
            )
            result = checks.check_clip(report=report, critique=critique)
            measured = {
                "duration_s": report.duration_s,
                "width": report.width,
                "height": report.height,
                "has_audio": report.has_audio,
            }
        if not result.passed:
            return after_failed_take(
                take, result, owner, clock, step=Step.CHECK, attempt=attempt, measured=measured
            )
        with transaction.atomic():
            finish(
                Take,
                take_id,
                owner=owner,
                status=Take.Status.READY,
                status_reason="",
                **measured,
                checks=result.findings_json(),
                checks_passed=True,
                confidence=result.confidence,
            )
            set_shot_status(shot.pk, Shot.Status.READY, only_if_current=take)
            signals.take_ready.send(sender=Take, take_id=take_id)
            # Continuity compares this take with the brief's other shots once it is committed.
            send_after_commit(CONTINUITY_TASK, brief.pk)
            log_handoff(
                brief_id=brief.pk,
                shot_id=shot.pk,
                take_id=take_id,
                step=Step.CHECK,
                outcome=Outcome.PASSED,
                clock=clock,
                owner=owner,
                attempt=attempt,
                confidence=result.confidence,
                model=critic.model,
                detail={"checks": result.findings_json(), "critic": list(critique.reasons)},
            )
            settle_brief(brief.pk)
    except TransientProviderError as exc:
        return retry_take_step(take, Step.CHECK, exc, clock, attempt, owner)
    except PermanentProviderError as exc:
        result = checks.CheckResult(False, 0.5, (f"the critic failed: {exc}",), retryable=False)
        return after_failed_take(take, result, owner, clock, step=Step.CHECK, attempt=attempt)
    except LeaseLost:
        return []
    _announce_take_ready(take_id)
    return []


def _announce_take_ready(take_id: int) -> None:
    """Hand a ready take to the configured hook (review's earned-autonomy policies)."""
    if settings.PIPELINE_ON_TAKE_READY:
        import_string(settings.PIPELINE_ON_TAKE_READY)(Take(pk=take_id))
