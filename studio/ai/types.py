"""Plain values that cross the model boundary; nothing here knows about a provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AspectRatio = Literal["16:9", "9:16"]
EmbedTask = Literal["document", "query"]
# What a brief wants heard: a spoken line over ambience, ambience alone, or silence.
Sound = Literal["dialogue", "ambience", "none"]


@dataclass(frozen=True)
class Reference:
    """A rights-cleared catalog asset handed to a model as context."""

    asset_id: int
    title: str
    text: str
    image_path: str | None
    palette: tuple[str, ...] = ()
    # The IP's characters this asset shows (empty for settings, props and style art).
    characters: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanRequest:
    """Everything the planner needs to turn one beat into shots."""

    title: str
    beat: str
    tone: str
    shot_count: int
    aspect_ratio: AspectRatio
    seconds_per_shot: int
    negative_prompt: str
    ip_name: str
    style_notes: str
    palette: tuple[str, ...]
    references: tuple[Reference, ...]
    # The names of the IP's characters, so a plan can say who is in each shot.
    characters: tuple[str, ...] = ()
    sound: Sound = "none"


@dataclass(frozen=True)
class ShotSpec:
    """One planned shot."""

    prompt: str
    negative_prompt: str
    camera: str
    duration_s: int
    reference_ids: tuple[int, ...]
    # The characters who appear in the shot, by name.
    characters: tuple[str, ...] = ()
    # What is heard (a dialogue line, an ambience); empty when the brief wants no sound.
    audio: str = ""


@dataclass(frozen=True)
class Plan:
    """A planner's answer, with what it cost."""

    shots: tuple[ShotSpec, ...]
    model: str
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class GenerationRequest:
    """One take to render; the idempotency key names the attempt, not the shot."""

    prompt: str
    negative_prompt: str
    camera: str
    duration_s: int
    aspect_ratio: AspectRatio
    seed: int
    palette: tuple[str, ...]
    reference_images: tuple[str, ...]
    idempotency_key: str
    sound: Sound = "none"
    # The shot's audio line: what the clip's sound should be when sound is wanted.
    audio: str = ""

    @property
    def wants_sound(self) -> bool:
        """Tell whether the clip must come with sound."""
        return self.sound != "none"


@dataclass(frozen=True)
class GenerationStatus:
    """The state of a generation operation; video is set only when done and not filtered."""

    done: bool
    operation_id: str
    video: bytes | None = None
    mime_type: str = "video/mp4"
    filtered_reason: str = ""
    error: str = ""


@dataclass(frozen=True)
class ClipFrame:
    """A frame sampled from a take, at its time in the clip, as image bytes."""

    time_s: float
    image: bytes
    mime_type: str = "image/jpeg"


CRITERIA = ("on_model", "action_matches_prompt", "setting", "style", "forbidden_content")


@dataclass(frozen=True)
class CriterionVerdict:
    """A critic's verdict on one criterion (one of CRITERIA), with when in the clip it applies."""

    name: str
    passed: bool
    reason: str
    start_s: float | None = None
    end_s: float | None = None


@dataclass(frozen=True)
class Critique:
    """A critic's score in [0, 1], the reasons behind it, and per-criterion verdicts if any."""

    score: float
    reasons: tuple[str, ...]
    model: str
    criteria: tuple[CriterionVerdict, ...] = ()


@dataclass(frozen=True)
class NoteSpec:
    """One review note on a take: what was said, when, and where in the frame."""

    note_id: int
    body: str
    start_s: float
    end_s: float | None = None
    # (x, y, w, h) as fractions of the frame.
    region: tuple[float, float, float, float] | None = None
    # About what is heard: it revises the audio line, not the picture prompt.
    about_sound: bool = False


@dataclass(frozen=True)
class RevisionRequest:
    """A take's prompt and the notes a revised prompt should answer."""

    prompt: str
    negative_prompt: str
    notes: tuple[NoteSpec, ...]
    audio: str = ""


@dataclass(frozen=True)
class Revision:
    """A proposed prompt for the next take and the notes it answers."""

    prompt: str
    negative_prompt: str
    answered_note_ids: tuple[int, ...]
    model: str
    audio: str = ""


class ProviderError(Exception):
    """A model provider failed."""


class TransientProviderError(ProviderError):
    """A failure worth retrying: rate limits, 5xx, timeouts."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, may_have_run: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        # The request may have reached the provider and run (the answer was lost, not refused),
        # so a paid call must not be assumed not to have started.
        self.may_have_run = may_have_run


class PermanentProviderError(ProviderError):
    """A failure that retrying the same request will not fix."""


class MalformedOutputError(PermanentProviderError):
    """The model answered, but the answer does not validate."""
