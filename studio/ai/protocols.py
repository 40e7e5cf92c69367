"""The small interfaces the rest of Studio codes against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from studio.ai.types import (
    ClipFrame,
    Critique,
    EmbedTask,
    GenerationRequest,
    GenerationStatus,
    Plan,
    PlanRequest,
    Reference,
    Revision,
    RevisionRequest,
)


class Planner(Protocol):
    model: str

    def plan(self, request: PlanRequest) -> Plan:
        """Turn a beat and its references into shots."""
        ...


class Reviser(Protocol):
    model: str

    def revise(self, request: RevisionRequest) -> Revision:
        """Propose a revised prompt for the next take that answers the review notes."""
        ...


class Generator(Protocol):
    model: str
    # True when start() with an idempotency key it has seen never starts (or bills) a second job.
    start_is_idempotent: bool

    def start(self, request: GenerationRequest) -> str:
        """Start rendering a take and return its operation id."""
        ...

    def poll(self, operation_id: str) -> GenerationStatus:
        """Return the operation's state; done is False while it runs."""
        ...


class Critic(Protocol):
    model: str

    def critique(
        self,
        *,
        prompt: str,
        poster_png: bytes,
        references: Sequence[Reference],
        frames: Sequence[ClipFrame] = (),
        negative_prompt: str = "",
    ) -> Critique:
        """Judge a take (its sampled frames, else its poster) against prompt and references."""
        ...


class Embedder(Protocol):
    model: str
    dimensions: int

    def embed(self, texts: Sequence[str], *, task: EmbedTask) -> list[list[float]]:
        """Return one L2-normalised vector per text."""
        ...


class Captioner(Protocol):
    model: str

    def caption(self, image_bytes: bytes, *, hint: str) -> str:
        """Describe an image for search, guided by a hint such as its title."""
        ...
