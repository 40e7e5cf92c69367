"""Fault injection around any provider, with a ground-truth log of every injected fault.

Loud faults raise the errors a real provider raises; silent faults return plausible but bad
output, which is what the pipeline's checks exist to catch. A benchmark compares the log with
what the checks routed to humans to count what slipped through.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import random
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from studio.ai import media
from studio.ai.local import sound_mood, write_atomically
from studio.ai.protocols import Critic, Embedder, Generator, Planner
from studio.ai.types import (
    ClipFrame,
    Critique,
    EmbedTask,
    GenerationRequest,
    GenerationStatus,
    MalformedOutputError,
    PermanentProviderError,
    Plan,
    PlanRequest,
    Reference,
    TransientProviderError,
)

STEPS = ("plan", "generate", "critique", "embed")
KINDS = ("error", "timeout", "rate_limit", "malformed", "silent")


@dataclass(frozen=True)
class InjectedFault:
    """One fault the injector caused: ground truth for a benchmark."""

    step: str
    kind: str
    key: str
    detail: str = ""


class FaultInjector:
    """Draw faults at per-step rates from a seeded Random and log each one."""

    def __init__(
        self,
        rates: Mapping[str, Mapping[str, float]],
        rng: random.Random,
        *,
        log_path: Path | None = None,
    ) -> None:
        for step, kinds in rates.items():
            if step not in STEPS or set(kinds) - set(KINDS):
                raise ValueError(f"unknown fault step or kind in {step}: {dict(kinds)}")
            if sum(kinds.values()) > 1:
                raise ValueError(f"fault rates for {step} add up to more than 1")
        self.rates = {step: dict(kinds) for step, kinds in rates.items()}
        self.rng = rng
        self.log_path = log_path
        self.log: list[InjectedFault] = []
        # Celery threads may share one injector; the draw order must stay one sequence.
        self._lock = threading.Lock()

    def inject(self, step: str, key: str, silent_variants: Sequence[str]) -> str | None:
        """Raise a loud fault, return the silent variant to apply, or None for no fault."""
        with self._lock:
            # One draw per call, whatever the outcome, so a seed replays the same faults.
            roll = self.rng.random()
            kind = None
            cumulative = 0.0
            for candidate in KINDS:
                cumulative += self.rates.get(step, {}).get(candidate, 0.0)
                if roll < cumulative:
                    kind = candidate
                    break
            if kind is None:
                return None
            detail = self.rng.choice(list(silent_variants)) if kind == "silent" else ""
            self._record(InjectedFault(step=step, kind=kind, key=key, detail=detail))
        if kind == "silent":
            return detail
        message = f"injected {kind} fault in {step} ({key})"
        if kind == "timeout":
            raise TransientProviderError(message)
        if kind == "rate_limit":
            raise TransientProviderError(message, retry_after=1.0)
        if kind == "malformed":
            raise MalformedOutputError(message)
        raise PermanentProviderError(message)

    def unit_vector(self, dimensions: int) -> list[float]:
        """Return a random unit vector from the seeded Random."""
        with self._lock:
            values = [self.rng.gauss(0, 1) for _ in range(dimensions)]
        norm = math.sqrt(sum(v * v for v in values)) or 1.0
        return [v / norm for v in values]

    def _record(self, fault: InjectedFault) -> None:
        self.log.append(fault)
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(dataclasses.asdict(fault)) + "\n")


def _short_hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


class FaultyPlanner:
    """A planner that sometimes fails or returns an empty, truncated or prompt-less plan."""

    def __init__(self, inner: Planner, injector: FaultInjector) -> None:
        self.inner = inner
        self.injector = injector
        self.model = inner.model

    def plan(self, request: PlanRequest) -> Plan:
        """Plan through the inner planner, then maybe spoil the result."""
        key = f"{request.title}#{_short_hash(request.beat)}"
        variant = self.injector.inject("plan", key, ("empty", "truncated", "empty_prompt"))
        plan = self.inner.plan(request)
        if variant == "empty":
            return dataclasses.replace(plan, shots=())
        if variant == "truncated":
            return dataclasses.replace(plan, shots=plan.shots[: len(plan.shots) // 2])
        if variant == "empty_prompt" and plan.shots:
            first = dataclasses.replace(plan.shots[0], prompt="")
            return dataclasses.replace(plan, shots=(first, *plan.shots[1:]))
        return plan


class FaultyGenerator:
    """A generator that sometimes fails or renders a black, blank, frozen or off-palette take."""

    def __init__(
        self, inner: Generator, injector: FaultInjector, workdir: Path | None = None
    ) -> None:
        self.inner = inner
        self.injector = injector
        self.model = inner.model
        self.start_is_idempotent = inner.start_is_idempotent
        self.workdir = workdir or Path(tempfile.gettempdir()) / "studio-fault-ops"

    def start(self, request: GenerationRequest) -> str:
        """Start through the inner generator, or render a bad take in its place."""
        operation_id = "fault-" + _short_hash(request.idempotency_key)
        if self._path(operation_id).exists():
            return operation_id
        variant = self.injector.inject(
            "generate", request.idempotency_key, ("black", "blank", "frozen", "off_palette")
        )
        if variant is None:
            return self.inner.start(request)
        write_atomically(self._path(operation_id), _bad_clip(variant, request))
        return operation_id

    def poll(self, operation_id: str) -> GenerationStatus:
        """Return an injected take, or the inner generator's status."""
        if not operation_id.startswith("fault-"):
            return self.inner.poll(operation_id)
        try:
            video = self._path(operation_id).read_bytes()
        except FileNotFoundError as exc:
            raise PermanentProviderError(f"unknown operation {operation_id}") from exc
        return GenerationStatus(done=True, operation_id=operation_id, video=video)

    def _path(self, operation_id: str) -> Path:
        return self.workdir / f"{operation_id}.mp4"


def _bad_clip(variant: str, request: GenerationRequest) -> bytes:
    """Render a real MP4 of the right length and shape whose content is wrong."""
    if variant in ("black", "blank"):
        colour = "#000000" if variant == "black" else "#7f7f7f"
        return media.render_flat_clip(
            colour=colour, duration_s=request.duration_s, aspect_ratio=request.aspect_ratio
        )
    palette = request.palette
    if variant == "off_palette":
        palette = media.complementary_palette(palette or ("#1d3557", "#a8dadc", "#f1faee"))
    return media.render_clip(
        prompt=request.prompt,
        camera=request.camera,
        duration_s=request.duration_s,
        aspect_ratio=request.aspect_ratio,
        seed=request.seed,
        palette=palette,
        reference_images=request.reference_images,
        still=variant == "frozen",
        negative_prompt=request.negative_prompt,
        # The fault is in the picture: the sound is what the brief asked for.
        mood=sound_mood(request) if request.wants_sound else None,
    )


class FaultyCritic:
    """A critic that sometimes fails or praises whatever it is shown."""

    def __init__(self, inner: Critic, injector: FaultInjector) -> None:
        self.inner = inner
        self.injector = injector
        self.model = inner.model

    def critique(
        self,
        *,
        prompt: str,
        poster_png: bytes,
        references: Sequence[Reference],
        frames: Sequence[ClipFrame] = (),
        negative_prompt: str = "",
    ) -> Critique:
        """Critique through the inner critic, or return an inflated score."""
        key = _short_hash(prompt + hashlib.blake2b(poster_png).hexdigest())
        if self.injector.inject("critique", key, ("inflated",)):
            return Critique(score=0.97, reasons=("on model, on palette",), model=self.model)
        return self.inner.critique(
            prompt=prompt,
            poster_png=poster_png,
            references=references,
            frames=frames,
            negative_prompt=negative_prompt,
        )


class FaultyEmbedder:
    """An embedder that sometimes fails or returns random unit vectors."""

    def __init__(self, inner: Embedder, injector: FaultInjector) -> None:
        self.inner = inner
        self.injector = injector
        self.model = inner.model
        self.dimensions = inner.dimensions

    def embed(self, texts: Sequence[str], *, task: EmbedTask = "document") -> list[list[float]]:
        """Embed through the inner embedder, or return noise of the right shape."""
        key = _short_hash("\n".join(texts))
        if self.injector.inject("embed", key, ("random_vector",)):
            return [self.injector.unit_vector(self.dimensions) for _ in texts]
        return self.inner.embed(texts, task=task)
