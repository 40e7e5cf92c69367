"""The pipeline's state machine: the only code that moves briefs, shots and takes between states.

Every step claims a lease on its row with a conditional UPDATE (so two workers cannot both run
it), does its work, checks the result, logs a Handoff and moves the row on with another
conditional UPDATE that still names the lease. A step returns the NextSteps to run: tasks.py
enqueues them after commit, run_inline() runs them in this process. The sweeper finds rows whose
lease (or pickup deadline) expired, because a killed worker takes its broker message with it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import socket
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, models, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from briefs import checks
from briefs.models import Brief, Handoff, Shot, Take
from studio import webhooks
from studio.ai import media, providers
from studio.ai.pricing import cost_for
from studio.ai.protocols import Critic, Generator, Planner
from studio.ai.types import (
    GenerationRequest,
    PermanentProviderError,
    Plan,
    PlanRequest,
    Reference,
    TransientProviderError,
)

logger = logging.getLogger(__name__)

Step = Handoff.Step
Outcome = Handoff.Outcome

# Statuses in which a row waits for, or is in, a step; the sweeper watches exactly these.
BRIEF_STEP_FOR_STATUS = {
    Brief.Status.QUEUED: "retrieve",
    Brief.Status.RETRIEVING: "retrieve",
    Brief.Status.PLANNING: "plan",
}
TAKE_STEP_FOR_STATUS = {
    Take.Status.QUEUED: "generate",
    Take.Status.GENERATING: "generate",
    Take.Status.CHECKING: "check",
}
BRIEF_FINISHED = (Brief.Status.COMPLETED, Brief.Status.CANCELLED, Brief.Status.FAILED)
BRIEF_PIPELINE_IDLE = (
    Brief.Status.AWAITING_PLAN_APPROVAL,
    Brief.Status.IN_REVIEW,
    Brief.Status.NEEDS_ATTENTION,
    *BRIEF_FINISHED,
)
TAKE_REVIEWABLE = (
    Take.Status.READY,
    Take.Status.ROUTED,
    Take.Status.APPROVED,
    Take.Status.REJECTED,
)
SHOT_STATUS_FOR_TAKE = {
    Take.Status.QUEUED: Shot.Status.GENERATING,
    Take.Status.GENERATING: Shot.Status.GENERATING,
    Take.Status.CHECKING: Shot.Status.CHECKING,
    Take.Status.READY: Shot.Status.READY,
    Take.Status.ROUTED: Shot.Status.NEEDS_HUMAN,
    Take.Status.APPROVED: Shot.Status.APPROVED,
    Take.Status.REJECTED: Shot.Status.REJECTED,
    Take.Status.FAILED: Shot.Status.FAILED,
    Take.Status.CANCELLED: Shot.Status.CANCELLED,
}
SHOT_UNSETTLED = (Shot.Status.PLANNED, Shot.Status.GENERATING, Shot.Status.CHECKING)


# --- Errors -------------------------------------------------------------------------------------
class PipelineError(Exception):
    """A pipeline operation that cannot go ahead; the message is for the user."""


class InvalidTransitionError(PipelineError):
    """The row is not in a state that allows this operation."""


class BudgetExceededError(PipelineError):
    """Starting another generation would take the brief over its budget cap."""


class StaleTakeError(PipelineError):
    """Someone changed the take since the caller saw it; `take` is how it is now."""

    def __init__(self, take: Take) -> None:
        super().__init__(
            f"Take {take.number} changed since you opened it: it is now "
            f"{take.get_status_display().lower()} (version {take.version})."
        )
        self.take = take


class _LeaseLost(Exception):
    """Another worker took over this step (our lease expired); stop without writing."""


# --- Steps and providers ------------------------------------------------------------------------
@dataclass(frozen=True)
class NextStep:
    """A step to run next: which, on which row, and after how many seconds."""

    step: str
    object_id: int
    countdown: float = 0.0


@dataclass
class Providers:
    """The models a step uses; None means "the configured one", resolved when first needed."""

    planner: Planner | None = None
    generator: Generator | None = None
    critic: Critic | None = None

    def get_planner(self) -> Planner:
        self.planner = self.planner or providers.get_planner()
        return self.planner

    def get_generator(self) -> Generator:
        self.generator = self.generator or providers.get_generator()
        return self.generator

    def get_critic(self) -> Critic:
        self.critic = self.critic or providers.get_critic()
        return self.critic


def worker_name() -> str:
    """Name this process for leases and Handoff rows."""
    return f"{socket.gethostname()}:{os.getpid()}"


def schedule(steps: Iterable[NextStep]) -> None:
    """Enqueue steps on the broker once the current transaction commits."""
    steps = list(steps)
    if not steps:
        return
    from briefs import tasks  # tasks import this module; the broker is their business

    transaction.on_commit(lambda: tasks.enqueue(steps))


def run_step(step: str, object_id: int, *, owner: str, providers: Providers | None = None):
    """Run one step by name and return what should run next."""
    runners: dict[str, Callable[..., list[NextStep]]] = {
        "retrieve": retrieve,
        "plan": plan,
        "generate": generate,
        "check": check,
    }
    try:
        return runners[step](object_id, owner=owner, providers=providers or Providers())
    except DatabaseError:
        raise  # the task retries these; the lease keeps the row safe meanwhile
    except Exception as exc:
        # A bug or an unexpected answer must not leave the row leased forever: retry it a
        # bounded number of times like a transient error, then route it to a human.
        logger.exception("%s step on %s crashed", step, object_id)
        return _after_crash(step, object_id, owner, exc)


def _after_crash(step: str, object_id: int, owner: str, exc: Exception) -> list[NextStep]:
    clock = _Clock()
    if step in ("retrieve", "plan"):
        brief = Brief.objects.get(pk=object_id)
        if brief.lease_owner != owner:
            return []
        attempt = _attempt(brief_id=brief.pk, step=step)
        return _retry_brief_step(brief, step, exc, clock, attempt, owner)
    take = Take.objects.select_related("shot").get(pk=object_id)
    if take.lease_owner != owner:
        return []
    attempt = _attempt(brief_id=take.shot.brief_id, step=step, take_id=take.pk)
    return _retry_take_step(take, step, exc, clock, attempt, owner)


def run_inline(
    brief_id: int, *, providers: Providers | None = None, owner: str = "inline"
) -> Brief:
    """Run a brief's pending steps in this process until none are left (demo, tests, bench)."""
    providers = providers or Providers()
    pending = deque(pending_steps(brief_id))
    while pending:
        step = pending.popleft()
        # A poll countdown is for a shared worker; here the next poll can simply run now.
        pending.extend(run_step(step.step, step.object_id, owner=owner, providers=providers))
    return Brief.objects.get(pk=brief_id)


def pending_steps(brief_id: int) -> list[NextStep]:
    """Return the steps a brief is waiting for, whatever their leases say."""
    brief = Brief.objects.only("status").get(pk=brief_id)
    if brief.status in BRIEF_STEP_FOR_STATUS:
        return [NextStep(BRIEF_STEP_FOR_STATUS[brief.status], brief_id)]
    takes = Take.objects.filter(shot__brief_id=brief_id, status__in=TAKE_STEP_FOR_STATUS)
    return [NextStep(TAKE_STEP_FOR_STATUS[t.status], t.pk) for t in takes.only("status")]


# --- Leases -------------------------------------------------------------------------------------
def _lease_seconds() -> timedelta:
    return timedelta(seconds=settings.PIPELINE_LEASE_SECONDS)


def _lease_free(now: datetime) -> Q:
    return Q(lease_owner="") | Q(lease_expires_at__lt=now)


def _claim(model: type[models.Model], pk: int, statuses: Sequence[str], *, owner: str, **extra):
    """Take the lease on a row in one of `statuses`; False when someone else holds it."""
    now = timezone.now()
    claimed = (
        model.objects.filter(pk=pk, status__in=statuses)
        .filter(_lease_free(now))
        .update(lease_owner=owner, lease_expires_at=now + _lease_seconds(), updated_at=now, **extra)
    )
    return claimed == 1


def _move(model: type[models.Model], pk: int, *, owner: str, **updates: Any) -> None:
    """Move a row we hold the lease on and release it; raise _LeaseLost if we no longer do.

    A released row still has a deadline: if nobody picks it up by then the sweeper does.
    """
    now = timezone.now()
    updates.setdefault("lease_owner", "")
    updates.setdefault("lease_expires_at", now + _lease_seconds())
    if model.objects.filter(pk=pk, lease_owner=owner).update(updated_at=now, **updates) != 1:
        raise _LeaseLost(f"{model.__name__} {pk}")


def _finish(model: type[models.Model], pk: int, *, owner: str, **updates: Any) -> None:
    """Move a row we hold into a state no step waits on."""
    _move(model, pk, owner=owner, lease_expires_at=None, **updates)


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
            lease_owner="", lease_expires_at=now + _lease_seconds()
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
            lease_owner="", lease_expires_at=now + _lease_seconds()
        )
        if freed:
            steps.append(NextStep(TAKE_STEP_FOR_STATUS[status], pk))
    if steps:
        logger.warning("sweeper re-enqueued %d step(s) with expired leases", len(steps))
    return steps


# --- Logging ------------------------------------------------------------------------------------
@dataclass
class _Clock:
    started_at: datetime = dataclasses.field(default_factory=timezone.now)
    t0: float = dataclasses.field(default_factory=time.perf_counter)

    @property
    def latency_ms(self) -> int:
        return int((time.perf_counter() - self.t0) * 1000)


def _log(
    *,
    brief_id: int,
    step: str,
    outcome: str,
    clock: _Clock,
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


def _attempt(*, brief_id: int, step: str, take_id: int | None = None) -> int:
    """Number this attempt: one more than the attempts already logged for the step."""
    done = Handoff.objects.filter(brief_id=brief_id, step=step, take_id=take_id)
    return done.exclude(outcome=Outcome.PASSED).count() + 1


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """Return an exponential, jittered, capped delay; a server's retry-after is a floor."""
    ceiling = min(settings.PIPELINE_BACKOFF_MAX_S, settings.PIPELINE_BACKOFF_BASE_S * 2**attempt)
    delay = random.uniform(ceiling / 2, ceiling)
    return min(settings.PIPELINE_BACKOFF_MAX_S, max(delay, retry_after or 0.0))


# --- retrieve -----------------------------------------------------------------------------------
def retrieve(brief_id: int, *, owner: str, providers: Providers) -> list[NextStep]:
    """Find the brief's rights-cleared references and check there are enough strong ones."""
    from retrieval.selectors import rights_block_reason, search_assets

    statuses = (Brief.Status.QUEUED, Brief.Status.RETRIEVING)
    if not _claim(Brief, brief_id, statuses, owner=owner, status=Brief.Status.RETRIEVING):
        return []
    clock = _Clock()
    brief = Brief.objects.select_related("ip").get(pk=brief_id)
    attempt = _attempt(brief_id=brief_id, step=Step.RETRIEVE)
    query = " ".join(part for part in (brief.title, brief.beat, brief.tone) if part)
    try:
        hits = search_assets(
            ip=brief.ip,
            query=query,
            k=settings.PIPELINE_SEARCH_K,
            territory=brief.territory,
            on_date=brief.release_date,
            use="reference",
        )
    except TransientProviderError as exc:
        return _retry_brief_step(brief, Step.RETRIEVE, exc, clock, attempt, owner)
    except PermanentProviderError as exc:
        # Asking again will not help (a bad key, a refused input): a human must look now,
        # not after the lease expires and the sweeper retries the same failure.
        hits, search_error = [], f"reference search failed: {exc}"
    else:
        search_error = ""
    pinned, blocked = [], []
    for asset in brief.pinned_references.select_related("rights"):
        reason = rights_block_reason(
            asset, territory=brief.territory, on_date=brief.release_date, use="reference"
        )
        if reason:
            blocked.append(f"pinned reference “{asset.title}” is not cleared: {reason}")
        else:
            pinned.append(asset)
    result = checks.check_retrieval(
        hits=hits, pinned_count=len(pinned), blocked=blocked, search_error=search_error
    )
    strong = [hit.asset for hit in hits if checks.is_strong_hit(hit)]
    detail = {
        "query": query[:300],
        "hits": [
            {"asset": hit.asset.pk, "title": hit.asset.title, "score": round(hit.score, 4)}
            for hit in hits
        ],
        "pinned": [asset.pk for asset in pinned],
        "checks": result.findings_json(),
    }
    try:
        with transaction.atomic():
            if result.passed:
                _move(Brief, brief_id, owner=owner, status=Brief.Status.PLANNING)
                brief.references.set([*pinned, *strong])
            else:
                _route_brief(brief_id, owner, result.reasons)
            _log(
                brief_id=brief_id,
                step=Step.RETRIEVE,
                outcome=Outcome.PASSED if result.passed else Outcome.ROUTED,
                clock=clock,
                owner=owner,
                attempt=attempt,
                confidence=result.confidence,
                reasons=result.reasons,
                detail=detail,
            )
    except _LeaseLost:
        return []
    return [NextStep("plan", brief_id)] if result.passed else []


def _route_brief(brief_id: int, owner: str, reasons: Sequence[str]) -> None:
    _finish(
        Brief,
        brief_id,
        owner=owner,
        status=Brief.Status.NEEDS_ATTENTION,
        status_reason="; ".join(reasons),
    )


def _retry_brief_step(
    brief: Brief, step: str, exc: Exception, clock: _Clock, attempt: int, owner: str
) -> list[NextStep]:
    """Retry a transient failure later, or route the brief once the attempts run out."""
    retry_after = getattr(exc, "retry_after", None)
    give_up = attempt >= settings.PIPELINE_MAX_ATTEMPTS
    delay = backoff_seconds(attempt, retry_after)
    try:
        with transaction.atomic():
            if give_up:
                _route_brief(brief.pk, owner, [f"{step} kept failing: {exc}"])
            else:
                # Keep the row out of the sweeper's hands until the retry is due.
                _move(
                    Brief,
                    brief.pk,
                    owner=owner,
                    lease_expires_at=timezone.now() + timedelta(seconds=delay) + _lease_seconds(),
                )
            _log(
                brief_id=brief.pk,
                step=step,
                outcome=Outcome.ROUTED if give_up else Outcome.RETRIED,
                clock=clock,
                owner=owner,
                attempt=attempt,
                reasons=[str(exc)],
                detail={"retry_in_s": None if give_up else round(delay, 2)},
            )
    except _LeaseLost:
        return []
    return [] if give_up else [NextStep(step, brief.pk, countdown=delay)]


# --- plan ---------------------------------------------------------------------------------------
def references_for(assets: Iterable[Any]) -> list[Reference]:
    """Turn catalog assets into the model boundary's Reference values."""
    return [
        Reference(
            asset_id=asset.pk,
            title=asset.title,
            text=" ".join(p for p in (asset.description, asset.caption) if p),
            image_path=_image_path(asset),
            palette=tuple(asset.palette or ()),
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
    if not _claim(Brief, brief_id, (Brief.Status.PLANNING,), owner=owner):
        return []
    clock = _Clock()
    brief = Brief.objects.select_related("ip").get(pk=brief_id)
    attempt = _attempt(brief_id=brief_id, step=Step.PLAN)
    assets = list(brief.references.all())
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
    )
    try:
        answer: Plan | None = planner.plan(request)
        failure: tuple[str, ...] = ()
    except TransientProviderError as exc:
        return _retry_brief_step(brief, Step.PLAN, exc, clock, attempt, owner)
    except PermanentProviderError as exc:  # malformed output included: asking again may help
        answer, failure = None, (f"planner failed: {exc}",)
    if answer is not None:
        result = checks.check_plan(
            plan=answer,
            shot_count=brief.shot_count,
            known_reference_ids={asset.pk for asset in assets},
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
                _move(
                    Brief,
                    brief_id,
                    owner=owner,
                    status=Brief.Status.AWAITING_PLAN_APPROVAL if gate else Brief.Status.GENERATING,
                    status_reason="The shot plan waits for approval." if gate else "",
                    lease_expires_at=None if gate else timezone.now() + _lease_seconds(),
                    spent=F("spent") + cost,
                )
                planned = _create_shots(brief, answer)
                if not gate:
                    next_steps = _first_takes(planned)
            elif retry:
                _move(Brief, brief_id, owner=owner, spent=F("spent") + cost)
                next_steps = [NextStep("plan", brief_id)]
            else:
                _finish(
                    Brief,
                    brief_id,
                    owner=owner,
                    status=Brief.Status.NEEDS_ATTENTION,
                    status_reason="The plan failed its checks: " + "; ".join(result.reasons),
                    spent=F("spent") + cost,
                )
            _log(
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
    except _LeaseLost:
        return []
    return next_steps


def _create_shots(brief: Brief, answer: Plan) -> list[tuple[Shot, list[int]]]:
    shots = Shot.objects.bulk_create(
        Shot(
            brief=brief,
            order=order,
            prompt=spec.prompt,
            negative_prompt=spec.negative_prompt or brief.negative_prompt,
            camera=spec.camera,
            duration_s=spec.duration_s,
        )
        for order, spec in enumerate(answer.shots, 1)
    )
    planned = [
        (shot, list(dict.fromkeys(spec.reference_ids)))
        for shot, spec in zip(shots, answer.shots, strict=True)
    ]
    through = Shot.references.through
    through.objects.bulk_create(
        through(shot_id=shot.pk, asset_id=asset_id) for shot, refs in planned for asset_id in refs
    )
    return planned


def _first_takes(planned: Sequence[tuple[Shot, Sequence[int]]]) -> list[NextStep]:
    """Create take 1 of every newly planned shot in a few statements, and name their steps."""
    deadline = timezone.now() + _lease_seconds()
    takes = Take.objects.bulk_create(
        Take(
            shot=shot,
            number=1,
            prompt=shot.prompt,
            negative_prompt=shot.negative_prompt,
            seed=zlib.crc32(f"{shot.pk}:1".encode()) & 0x7FFFFFFF,
            lease_expires_at=deadline,
        )
        for shot, _ in planned
    )
    through = Take.references.through
    through.objects.bulk_create(
        through(take_id=take.pk, asset_id=asset_id)
        for take, (_, refs) in zip(takes, planned, strict=True)
        for asset_id in refs
    )
    Shot.objects.filter(pk__in=[shot.pk for shot, _ in planned]).update(
        status=Shot.Status.GENERATING, status_reason="", updated_at=timezone.now()
    )
    return [NextStep("generate", take.pk) for take in takes]


def _new_take(
    shot: Shot,
    *,
    prompt: str,
    negative_prompt: str,
    reference_ids: Sequence[int],
    user: Any = None,
    parent_id: int | None = None,
) -> Take:
    """Add the shot's next take and make it current; earlier takes stay as they are."""
    number = (shot.takes.aggregate(n=Max("number"))["n"] or 0) + 1
    shot.takes.filter(is_current=True).update(is_current=False, updated_at=timezone.now())
    take = Take.objects.create(
        shot=shot,
        number=number,
        parent_id=parent_id,
        created_by=user,
        prompt=prompt,
        negative_prompt=negative_prompt,
        seed=zlib.crc32(f"{shot.pk}:{number}".encode()) & 0x7FFFFFFF,
        lease_expires_at=timezone.now() + _lease_seconds(),
    )
    take.references.set(reference_ids)
    Shot.objects.filter(pk=shot.pk).update(
        status=Shot.Status.GENERATING, status_reason="", updated_at=timezone.now()
    )
    return take


# --- plan gate ----------------------------------------------------------------------------------
def approve_plan(*, brief_id: int, user: Any) -> Brief:
    """Let an approved plan through the gate: create the first takes and start generating."""
    clock = _Clock()
    with transaction.atomic():
        moved = Brief.objects.filter(
            pk=brief_id, status=Brief.Status.AWAITING_PLAN_APPROVAL
        ).update(
            status=Brief.Status.GENERATING,
            status_reason="",
            lease_owner="",
            lease_expires_at=timezone.now() + _lease_seconds(),
            updated_at=timezone.now(),
        )
        if moved != 1:
            raise InvalidTransitionError("This plan is not waiting for approval.")
        shots = list(Shot.objects.filter(brief_id=brief_id).prefetch_related("references"))
        schedule(_first_takes([(shot, [r.pk for r in shot.references.all()]) for shot in shots]))
        _log(
            brief_id=brief_id,
            step=Step.PLAN_GATE,
            outcome=Outcome.PASSED,
            clock=clock,
            owner=f"user:{user.get_username()}",
            confidence=1.0,
            detail={"approved_by": user.pk, "shots": len(shots)},
        )
    return Brief.objects.get(pk=brief_id)


# --- generate -----------------------------------------------------------------------------------
def estimate_take_cost(generator: Generator, duration_s: int) -> Decimal:
    """Estimate what one take of duration_s seconds costs on this generator."""
    return cost_for(kind="video_seconds", model=generator.model, quantity=duration_s)


def generate(take_id: int, *, owner: str, providers: Providers) -> list[NextStep]:
    """Start (or resume) the take's generation, poll it, and store the clip when it is done."""
    statuses = (Take.Status.QUEUED, Take.Status.GENERATING)
    if not _claim(Take, take_id, statuses, owner=owner, status=Take.Status.GENERATING):
        return []
    clock = _Clock()
    take = Take.objects.select_related("shot__brief__ip").get(pk=take_id)
    brief = take.shot.brief
    generator = providers.get_generator()
    attempt = _attempt(brief_id=brief.pk, step=Step.GENERATE, take_id=take_id)
    try:
        if brief.status in BRIEF_FINISHED:
            _finish(Take, take_id, owner=owner, status=Take.Status.CANCELLED)
            return []
        if not take.operation_id:
            if not _reserve_budget(take, generator, owner):
                return _stop_for_budget(take, owner, clock)
            take.operation_id = _start_generation(take, generator, owner)
        status = generator.poll(take.operation_id)
        if not status.done:
            wait = settings.PIPELINE_POLL_SECONDS
            _move(
                Take,
                take_id,
                owner=owner,
                lease_expires_at=timezone.now() + timedelta(seconds=wait) + _lease_seconds(),
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
            return _after_failed_take(
                take, result, owner, clock, step=Step.GENERATE, attempt=attempt
            )
        return _store_clip(take, generator, status.video, owner, clock, attempt)
    except TransientProviderError as exc:
        return _retry_take_step(take, Step.GENERATE, exc, clock, attempt, owner)
    except media.MediaError as exc:
        result = checks.CheckResult(False, 1.0, (f"the generator returned no usable clip: {exc}",))
        return _after_failed_take(take, result, owner, clock, step=Step.GENERATE, attempt=attempt)
    except PermanentProviderError as exc:
        result = checks.CheckResult(
            passed=False, confidence=1.0, reasons=(f"the generator refused: {exc}",)
        )
        return _after_failed_take(take, result, owner, clock, step=Step.GENERATE, attempt=attempt)
    except _LeaseLost:
        return []


def _reserve_budget(take: Take, generator: Generator, owner: str) -> bool:
    """Hold the take's estimated cost against the brief's cap; False when it would not fit."""
    if take.reserved_cost:
        return True
    estimate = estimate_take_cost(generator, take.shot.duration_s)
    if not estimate:
        return True
    with transaction.atomic():
        fits = Q(budget_cap__isnull=True) | Q(budget_cap__gte=F("spent") + F("reserved") + estimate)
        if not Brief.objects.filter(fits, pk=take.shot.brief_id).update(
            reserved=F("reserved") + estimate
        ):
            return False
        if not Take.objects.filter(pk=take.pk, lease_owner=owner).update(reserved_cost=estimate):
            raise _LeaseLost(f"Take {take.pk}")
    take.reserved_cost = estimate
    return True


def _stop_for_budget(take: Take, owner: str, clock: _Clock) -> list[NextStep]:
    brief = Brief.objects.get(pk=take.shot.brief_id)
    reason = (
        f"Budget cap ${brief.budget_cap} reached (spent ${brief.spent:.2f}, "
        f"${brief.reserved:.2f} in flight): generation stopped before exceeding it."
    )
    with transaction.atomic():
        _finish(Take, take.pk, owner=owner, status=Take.Status.FAILED, status_reason=reason)
        Shot.objects.filter(pk=take.shot_id).update(
            status=Shot.Status.FAILED, status_reason=reason, updated_at=timezone.now()
        )
        _log(
            brief_id=brief.pk,
            shot_id=take.shot_id,
            take_id=take.pk,
            step=Step.GENERATE,
            outcome=Outcome.FAILED,
            clock=clock,
            owner=owner,
            confidence=1.0,
            reasons=[reason],
        )
        _settle_brief(brief.pk)
    return []


def _start_generation(take: Take, generator: Generator, owner: str) -> str:
    """Start the take's operation under its idempotency key and remember the operation id."""
    shot, brief = take.shot, take.shot.brief
    assets = list(take.references.all())
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
    )
    config = dataclasses.asdict(request) | {"started_at": timezone.now().isoformat()}
    Take.objects.filter(pk=take.pk, lease_owner=owner).update(
        config=config,
        provider=generator.__class__.__name__,
        model=generator.model,
        attempts=F("attempts") + 1,
    )
    operation_id = generator.start(request)
    if settings.PIPELINE_STEP_DELAY_S:
        # A slow step on purpose, for the crash test (0 everywhere else).
        time.sleep(settings.PIPELINE_STEP_DELAY_S)
    if not Take.objects.filter(pk=take.pk, lease_owner=owner).update(operation_id=operation_id):
        raise _LeaseLost(f"Take {take.pk}")
    return operation_id


def _store_clip(
    take: Take, generator: Generator, video: bytes, owner: str, clock: _Clock, attempt: int
) -> list[NextStep]:
    """Save the clip and its poster, settle the cost, and hand the take to the checks."""
    poster = media.poster_png(video)
    cost = estimate_take_cost(generator, take.shot.duration_s)
    take.media.save("take.mp4", ContentFile(video), save=False)
    take.poster.save("poster.png", ContentFile(poster), save=False)
    with transaction.atomic():
        _move(
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
        _set_shot_status(take.shot_id, Shot.Status.CHECKING, only_if_current=take)
        Brief.objects.filter(pk=take.shot.brief_id).update(
            spent=F("spent") + cost, reserved=F("reserved") - take.reserved_cost
        )
        _log(
            brief_id=take.shot.brief_id,
            shot_id=take.shot_id,
            take_id=take.pk,
            step=Step.GENERATE,
            outcome=Outcome.PASSED,
            clock=_Clock(started_at=_started_at(take) or clock.started_at, t0=clock.t0),
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


def _retry_take_step(
    take: Take, step: str, exc: Exception, clock: _Clock, attempt: int, owner: str
) -> list[NextStep]:
    """Retry a transient failure later, or route the take once the attempts run out."""
    if attempt >= settings.PIPELINE_MAX_ATTEMPTS:
        result = checks.CheckResult(
            passed=False,
            confidence=1.0,
            reasons=(f"{step} kept failing after {attempt} attempts: {exc}",),
            retryable=False,
        )
        return _after_failed_take(take, result, owner, clock, step=step, attempt=attempt)
    retry_after = getattr(exc, "retry_after", None)
    delay = backoff_seconds(attempt, retry_after)
    try:
        with transaction.atomic():
            _move(
                Take,
                take.pk,
                owner=owner,
                lease_expires_at=timezone.now() + timedelta(seconds=delay) + _lease_seconds(),
            )
            _log(
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
    except _LeaseLost:
        return []
    return [NextStep(step, take.pk, countdown=delay)]


def _after_failed_take(
    take: Take,
    result: checks.CheckResult,
    owner: str,
    clock: _Clock,
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
            _release_reservation(take)
            if retry:
                _finish(
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
                retake = _new_take(
                    take.shot,
                    prompt=take.prompt,
                    negative_prompt=take.negative_prompt,
                    reference_ids=list(take.references.values_list("pk", flat=True)),
                    parent_id=take.pk,
                )
                next_steps = [NextStep("generate", retake.pk)]
            else:
                _finish(
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
                _set_shot_status(
                    take.shot_id, Shot.Status.NEEDS_HUMAN, reason=reasons, only_if_current=take
                )
            _log(
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
                _settle_brief(take.shot.brief_id)
    except _LeaseLost:
        return []
    return next_steps


def _release_reservation(take: Take) -> None:
    current = Take.objects.values_list("reserved_cost", flat=True).get(pk=take.pk)
    if current:
        Brief.objects.filter(pk=take.shot.brief_id).update(reserved=F("reserved") - current)


def _set_shot_status(
    shot_id: int, status: str, *, reason: str = "", only_if_current: Take | None = None
) -> None:
    """Move a shot; a take that is no longer current does not speak for its shot."""
    shots = Shot.objects.filter(pk=shot_id)
    if only_if_current is not None:
        shots = shots.filter(takes__pk=only_if_current.pk, takes__is_current=True)
    shots.update(status=status, status_reason=reason, updated_at=timezone.now())


# --- check --------------------------------------------------------------------------------------
def check(take_id: int, *, owner: str, providers: Providers) -> list[NextStep]:
    """Measure the clip and ask the critic; pass it to review, re-render it, or route it."""
    if not _claim(Take, take_id, (Take.Status.CHECKING,), owner=owner):
        return []
    clock = _Clock()
    take = Take.objects.select_related("shot__brief__ip").get(pk=take_id)
    shot, brief = take.shot, take.shot.brief
    attempt = _attempt(brief_id=brief.pk, step=Step.CHECK, take_id=take_id)
    critic = providers.get_critic()
    references = references_for(take.references.all())
    # Judge the clip against the palette the generator was asked for.
    palette = list(take.config.get("palette") or brief.ip.palette)
    try:
        with take.media.open("rb") as handle:
            video = handle.read()
        with take.poster.open("rb") as handle:
            poster = handle.read()
        try:
            probe = media.probe_video(video)
        except media.MediaError as exc:
            result = checks.CheckResult(False, 1.0, (f"clip cannot be decoded: {exc}",))
            return _after_failed_take(take, result, owner, clock, step=Step.CHECK, attempt=attempt)
        critique = critic.critique(prompt=take.prompt, poster_png=poster, references=references)
        result = checks.check_take(
            probe=probe,
            critique=critique,
            expected_duration_s=shot.duration_s,
            aspect_ratio=brief.aspect_ratio,
            reference_palette=palette,
        )
        measured = {
            "duration_s": probe.duration_s,
            "width": probe.width,
            "height": probe.height,
        }
        if not result.passed:
            return _after_failed_take(
                take, result, owner, clock, step=Step.CHECK, attempt=attempt, measured=measured
            )
        with transaction.atomic():
            _finish(
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
            _set_shot_status(shot.pk, Shot.Status.READY, only_if_current=take)
            webhooks.emit_take_ready(take_id=take_id)
            _log(
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
            _settle_brief(brief.pk)
    except TransientProviderError as exc:
        return _retry_take_step(take, Step.CHECK, exc, clock, attempt, owner)
    except PermanentProviderError as exc:
        result = checks.CheckResult(False, 0.5, (f"the critic failed: {exc}",), retryable=False)
        return _after_failed_take(take, result, owner, clock, step=Step.CHECK, attempt=attempt)
    except _LeaseLost:
        return []
    _announce_take_ready(take_id)
    return []


def _announce_take_ready(take_id: int) -> None:
    """Hand a ready take to the configured hook (review's earned-autonomy policies)."""
    if settings.PIPELINE_ON_TAKE_READY:
        import_string(settings.PIPELINE_ON_TAKE_READY)(Take(pk=take_id))


def _settle_brief(brief_id: int) -> None:
    """Hand the brief to review (or to its producer) once no shot is still in the pipeline."""
    brief = Brief.objects.select_for_update().get(pk=brief_id)
    if brief.status != Brief.Status.GENERATING:
        return
    counts: dict[str, int] = {}
    for status in Shot.objects.filter(brief_id=brief_id).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    if any(counts.get(status) for status in SHOT_UNSETTLED):
        return
    failed = counts.get(Shot.Status.FAILED, 0)
    routed = counts.get(Shot.Status.NEEDS_HUMAN, 0)
    ready = counts.get(Shot.Status.READY, 0) + counts.get(Shot.Status.APPROVED, 0)
    parts = [f"{ready} shot(s) ready for review"]
    if routed:
        parts.append(f"{routed} routed to a human with reasons")
    if failed:
        stopped = Shot.objects.filter(brief_id=brief_id, status=Shot.Status.FAILED).first()
        parts.append(f"{failed} not generated: {stopped.status_reason}")
    Brief.objects.filter(pk=brief_id, status=Brief.Status.GENERATING).update(
        status=Brief.Status.NEEDS_ATTENTION if failed else Brief.Status.IN_REVIEW,
        status_reason="; ".join(parts),
        lease_owner="",
        lease_expires_at=None,
        updated_at=timezone.now(),
    )


# --- review (called by review/) -----------------------------------------------------------------
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
    clock = _Clock()
    status = Take.Status.APPROVED if verdict == "approved" else Take.Status.REJECTED
    with transaction.atomic():
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
        _set_shot_status(
            take.shot_id, SHOT_STATUS_FOR_TAKE[status], reason=reason, only_if_current=take
        )
        _log(
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
        _update_brief_after_review(take.shot.brief_id)
    return take


def _update_brief_after_review(brief_id: int) -> None:
    """Complete the brief when every shot's current take is approved; reopen it otherwise."""
    shots = Shot.objects.filter(brief_id=brief_id)
    total = shots.count()
    approved = shots.filter(takes__is_current=True, takes__status=Take.Status.APPROVED).count()
    all_approved = approved == total
    now = timezone.now()
    if all_approved:
        completed = Brief.objects.filter(pk=brief_id, status=Brief.Status.IN_REVIEW).update(
            status=Brief.Status.COMPLETED,
            status_reason="Every shot has an approved take.",
            completed_at=now,
            updated_at=now,
        )
        if completed:
            webhooks.emit_brief_completed(brief_id=brief_id)
    else:
        # The reason written when review began goes stale with every decision: keep it current.
        Brief.objects.filter(
            pk=brief_id, status__in=[Brief.Status.IN_REVIEW, Brief.Status.COMPLETED]
        ).update(
            status=Brief.Status.IN_REVIEW,
            status_reason=f"{approved} of {total} shot(s) approved.",
            completed_at=None,
            updated_at=now,
        )


def start_new_take(
    *,
    shot_id: int,
    prompt: str,
    negative_prompt: str,
    reference_ids: Sequence[int],
    user: Any,
    parent_take_id: int | None,
) -> Take:
    """Re-prompt a shot: add a take that becomes current and generate it after commit."""
    if not prompt.strip():
        raise PipelineError("A new take needs a prompt.")
    with transaction.atomic():
        shot = Shot.objects.get(pk=shot_id)
        # Takes first, then the brief: the lock order of every step (a refusal rolls back).
        take = _new_take(
            shot,
            prompt=prompt,
            negative_prompt=negative_prompt,
            reference_ids=reference_ids,
            user=user,
            parent_id=parent_take_id,
        )
        brief = Brief.objects.select_for_update().get(pk=shot.brief_id)
        if brief.status in (Brief.Status.CANCELLED, Brief.Status.FAILED):
            raise InvalidTransitionError(f"The brief is {brief.get_status_display().lower()}.")
        if brief.status in (*BRIEF_STEP_FOR_STATUS, Brief.Status.AWAITING_PLAN_APPROVAL):
            raise InvalidTransitionError("The brief has no approved plan yet.")
        _check_budget_for(brief, shot)
        Brief.objects.filter(pk=brief.pk).exclude(status=Brief.Status.GENERATING).update(
            status=Brief.Status.GENERATING,
            status_reason="",
            completed_at=None,
            updated_at=timezone.now(),
        )
        schedule([NextStep("generate", take.pk)])
    return take


def _check_budget_for(brief: Brief, shot: Shot) -> None:
    if brief.budget_cap is None:
        return
    estimate = estimate_take_cost(providers.get_generator(), shot.duration_s)
    if brief.spent + brief.reserved + estimate > brief.budget_cap:
        raise BudgetExceededError(
            f"Another take (about ${estimate:.2f}) would exceed the budget cap of "
            f"${brief.budget_cap} (spent ${brief.spent:.2f})."
        )


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
            _set_shot_status(take.shot_id, SHOT_STATUS_FOR_TAKE[take.status])
            _update_brief_after_review(take.shot.brief_id)
    return take


# --- cancel and retry (called by services) ------------------------------------------------------
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
            .prefetch_related("references")
            .select_related("brief")
        )
        now = timezone.now()
        if not brief.shots.exists():
            Brief.objects.filter(pk=brief_id).update(
                status=Brief.Status.QUEUED,
                status_reason="",
                lease_owner="",
                lease_expires_at=now + _lease_seconds(),
                updated_at=now,
            )
            schedule([NextStep("retrieve", brief_id)])
            return Brief.objects.get(pk=brief_id)
        if not shots:
            raise InvalidTransitionError("No shot has failed on this brief.")
        for shot in shots:
            _check_budget_for(brief, shot)
        Brief.objects.filter(pk=brief_id).update(
            status=Brief.Status.GENERATING, status_reason="", updated_at=now
        )
        takes = [
            _new_take(
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
