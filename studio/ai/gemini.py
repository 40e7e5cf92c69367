"""Providers backed by Google's models through google-genai; the only importer of google.genai."""

from __future__ import annotations

import contextlib
import json
import math
import mimetypes
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx2
from google import genai
from google.genai import errors
from google.genai import types as gt
from pydantic import BaseModel, Field, ValidationError

from studio.ai.types import (
    CRITERIA,
    ClipFrame,
    CriterionVerdict,
    Critique,
    EmbedTask,
    GenerationRequest,
    GenerationStatus,
    MalformedOutputError,
    PermanentProviderError,
    Plan,
    PlanRequest,
    Reference,
    Revision,
    RevisionRequest,
    ShotSpec,
    TransientProviderError,
)

_RETRYABLE_CODES = (408, 429, 500, 502, 503, 504)
# batchEmbedContents accepts at most 100 requests per call.
_EMBED_BATCH = 100
_ALLOWED_DURATIONS = (4, 6, 8)

Model = TypeVar("Model", bound=BaseModel)


def make_client(
    *,
    api_key: str | None,
    base_url: str | None = None,
    vertexai: bool = False,
    project: str | None = None,
    location: str | None = None,
    timeout_s: float = 60,
    retries: int = 4,
    retry_initial_delay_s: float = 1.0,
    retry_max_delay_s: float = 30.0,
) -> genai.Client:
    """Build a client whose transport retries rate limits and server errors with backoff.

    In Vertex mode a project selects Application Default Credentials; without one the API key
    is used (express mode).
    """
    http_options = gt.HttpOptions(
        base_url=base_url or None,
        timeout=int(timeout_s * 1000),
        retry_options=gt.HttpRetryOptions(
            attempts=retries + 1,
            initial_delay=retry_initial_delay_s,
            max_delay=retry_max_delay_s,
            # The default jitter adds up to a second per retry, which swamps short delays.
            jitter=min(1.0, retry_initial_delay_s),
            http_status_codes=list(_RETRYABLE_CODES),
        ),
    )
    if vertexai and project:
        return genai.Client(
            vertexai=True, project=project, location=location, http_options=http_options
        )
    return genai.Client(vertexai=vertexai, api_key=api_key, http_options=http_options)


@contextlib.contextmanager
def _provider_errors() -> Iterator[None]:
    """Translate SDK and transport errors into Studio's transient/permanent errors."""
    try:
        yield
    except errors.APIError as exc:
        message = f"{exc.code} {exc.status or ''}: {exc.message or exc.details}".strip()
        if exc.code in _RETRYABLE_CODES:
            raise TransientProviderError(message, retry_after=_retry_after(exc)) from exc
        raise PermanentProviderError(message) from exc
    except (httpx2.TimeoutException, httpx2.TransportError) as exc:
        # Only a failed connect proves the request never arrived; a lost answer may hide a job.
        never_sent = isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout)
        raise TransientProviderError(f"transport: {exc!r}", may_have_run=not never_sent) from exc


def _retry_after(exc: errors.APIError) -> float | None:
    """Read the server's hint: a Retry-After header, else google.rpc.RetryInfo in the body."""
    headers = getattr(exc.response, "headers", None) or {}
    header = headers.get("retry-after")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            with contextlib.suppress(TypeError, ValueError):
                moment = parsedate_to_datetime(header)
                return max(0.0, (moment - datetime.now(UTC)).total_seconds())
    details = exc.details.get("error", exc.details) if isinstance(exc.details, dict) else {}
    for detail in details.get("details", []) if isinstance(details, dict) else []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and (match := re.fullmatch(r"([\d.]+)s", delay)):
            return float(match.group(1))
    return None


def _parse(model: type[Model], text: str | None, what: str) -> Model:
    """Validate a JSON answer or raise MalformedOutputError saying what was wrong."""
    if not text:
        raise MalformedOutputError(f"{what}: empty response")
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise MalformedOutputError(f"{what}: response does not match schema: {exc}") from exc


class _ShotOut(BaseModel):
    prompt: str
    negative_prompt: str = ""
    camera: str
    duration_s: int
    reference_ids: list[int] = Field(default_factory=list)
    characters: list[str] = Field(default_factory=list)
    audio: str = ""


class _PlanOut(BaseModel):
    shots: list[_ShotOut]


class _CriterionOut(BaseModel):
    name: Literal["on_model", "action_matches_prompt", "setting", "style", "forbidden_content"]
    passed: bool
    reason: str
    start_s: float | None = None
    end_s: float | None = None


class _CritiqueOut(BaseModel):
    score: float = Field(ge=0, le=1)
    reasons: list[str]
    criteria: list[_CriterionOut]


_PLANNER_INSTRUCTION = (
    "You are a storyboard artist for an animation studio. Split the beat into shots for a video "
    "model. Each prompt is self-contained: subject, action, setting, lighting, lens and style. "
    "Use only the reference asset ids you are given. Name the characters who appear in each "
    "shot, and give each shot references showing those characters and no others. "
    "When the brief asks for sound, write each shot's audio line: what is heard, as the video "
    "model should render it (for dialogue, who speaks and the exact words, then the ambience "
    "under them; for ambience, the sounds of the place and mood, no speech). When it asks for "
    "no sound, leave audio empty. Answer in JSON only."
)
_SOUND_ASK = {
    "dialogue": "dialogue: a short spoken line per shot, over ambience",
    "ambience": "ambience only, no dialogue",
    "none": "none (silent shots)",
}


class GeminiPlanner:
    """Plan shots with a Gemini model constrained to a JSON schema."""

    def __init__(self, client: genai.Client, model: str = "gemini-2.5-flash") -> None:
        self.client = client
        self.model = model

    def plan(self, request: PlanRequest) -> Plan:
        """Turn a beat and its references into exactly request.shot_count shots."""
        with _provider_errors():
            response = self.client.models.generate_content(
                model=self.model,
                contents=_plan_prompt(request),
                config=gt.GenerateContentConfig(
                    system_instruction=_PLANNER_INSTRUCTION,
                    response_mime_type="application/json",
                    response_schema=_PlanOut,
                    temperature=0.7,
                ),
            )
        out = _parse(_PlanOut, response.text, "plan")
        _check_plan(out, request)
        usage = response.usage_metadata
        return Plan(
            shots=tuple(
                ShotSpec(
                    prompt=shot.prompt.strip(),
                    negative_prompt=shot.negative_prompt or request.negative_prompt,
                    camera=shot.camera.strip(),
                    duration_s=shot.duration_s,
                    reference_ids=tuple(shot.reference_ids),
                    characters=tuple(name.strip() for name in shot.characters if name.strip()),
                    audio=shot.audio.strip() if request.sound != "none" else "",
                )
                for shot in out.shots
            ),
            model=self.model,
            input_tokens=(usage.prompt_token_count or 0) if usage else 0,
            output_tokens=(usage.candidates_token_count or 0) if usage else 0,
        )


class _RevisionOut(BaseModel):
    prompt: str
    negative_prompt: str
    answered_note_ids: list[int]
    audio: str = ""


_REVISER_INSTRUCTION = (
    "You revise a text-to-video prompt so the next take answers a director's review notes. "
    "Keep what the notes do not mention; make each fix concrete and visual; move things the "
    "notes want gone into the negative prompt. Notes marked (sound) are about what is heard: "
    "answer them in the audio line, not the picture prompt, and return the audio line whole "
    "(unchanged when no note is about sound). Return only the notes your prompt answers."
)


class GeminiReviser:
    """Propose a revised prompt from review notes with a Gemini model and a JSON schema."""

    def __init__(self, client: genai.Client, model: str = "gemini-2.5-flash") -> None:
        self.client = client
        self.model = model

    def revise(self, request: RevisionRequest) -> Revision:
        """Return the model's revised prompt; refuse an empty one or notes it was not given."""
        notes = "\n".join(
            f"- [note {n.note_id}] at {n.start_s:.2f} s"
            + (f" to {n.end_s:.2f} s" if n.end_s is not None else "")
            + (f", frame region x,y,w,h = {n.region}" if n.region else "")
            + (" (sound)" if n.about_sound else "")
            + f": {n.body}"
            for n in request.notes
        )
        with _provider_errors():
            response = self.client.models.generate_content(
                model=self.model,
                contents=(
                    f"Prompt: {request.prompt}\nNegative prompt: {request.negative_prompt}\n"
                    f"Audio line: {request.audio or '(none)'}\n"
                    f"Notes:\n{notes or '- none'}"
                ),
                config=gt.GenerateContentConfig(
                    system_instruction=_REVISER_INSTRUCTION,
                    response_mime_type="application/json",
                    response_schema=_RevisionOut,
                    temperature=0.2,
                ),
            )
        out = _parse(_RevisionOut, response.text, "revision")
        given = {n.note_id for n in request.notes}
        if not out.prompt.strip():
            raise MalformedOutputError("revision: empty prompt")
        if not set(out.answered_note_ids) <= given:
            raise MalformedOutputError("revision: answers notes it was not given")
        return Revision(
            prompt=out.prompt.strip(),
            negative_prompt=out.negative_prompt.strip(),
            answered_note_ids=tuple(sorted(set(out.answered_note_ids))),
            model=self.model,
            audio=out.audio.strip() or request.audio,
        )


def _plan_prompt(request: PlanRequest) -> str:
    references = "\n".join(
        f"- [asset {r.asset_id}] {r.title}: {r.text[:300]}"
        + (f" (shows {', '.join(r.characters)})" if r.characters else "")
        + (f" (palette {', '.join(r.palette)})" if r.palette else "")
        for r in request.references
    )
    return (
        f"Title: {request.title}\n"
        f"IP: {request.ip_name}\n"
        f"Style notes: {request.style_notes}\n"
        f"Tone: {request.tone}\n"
        f"Palette: {', '.join(request.palette)}\n"
        f"Aspect ratio: {request.aspect_ratio}\n"
        f"Seconds per shot: {request.seconds_per_shot}\n"
        f"Avoid: {request.negative_prompt}\n"
        f"Characters: {', '.join(request.characters) or 'none'}\n"
        f"Sound: {_SOUND_ASK[request.sound]}\n"
        f"References:\n{references or '- none'}\n\n"
        f"Beat: {request.beat}\n\n"
        f"Write exactly {request.shot_count} shots, each {request.seconds_per_shot} seconds, "
        "each using 1-3 of the reference asset ids."
    )


def _check_plan(out: _PlanOut, request: PlanRequest) -> None:
    if len(out.shots) != request.shot_count:
        raise MalformedOutputError(
            f"plan: expected {request.shot_count} shots, got {len(out.shots)}"
        )
    known = {r.asset_id for r in request.references}
    for number, shot in enumerate(out.shots, start=1):
        if not shot.prompt.strip():
            raise MalformedOutputError(f"plan: shot {number} has an empty prompt")
        if shot.duration_s not in _ALLOWED_DURATIONS:
            raise MalformedOutputError(
                f"plan: shot {number} lasts {shot.duration_s}s, not one of {_ALLOWED_DURATIONS}"
            )
        if unknown := set(shot.reference_ids) - known:
            raise MalformedOutputError(
                f"plan: shot {number} cites unknown assets {sorted(unknown)}"
            )


class GeminiVideoGenerator:
    """Generate takes with Veo as long-running operations (Vertex mode only)."""

    # Veo takes no idempotency key: a second start() is a second paid job.
    start_is_idempotent = False

    def __init__(self, client: genai.Client, model: str = "veo-3.1-generate-preview") -> None:
        self.client = client
        self.model = model

    def start(self, request: GenerationRequest) -> str:
        """Submit the take and return the operation name.

        Veo has no idempotency key: the caller stores the returned name against
        request.idempotency_key and polls it instead of starting again.
        """
        images = [_image(path) for path in request.reference_images]
        prompt = request.prompt
        if request.camera:
            prompt += f" Camera: {request.camera}."
        if request.palette:
            prompt += f" Colour palette: {', '.join(request.palette)}."
        if request.wants_sound and request.audio:
            prompt += f" Audio: {request.audio}"
        with _provider_errors():
            operation = self.client.models.generate_videos(
                model=self.model,
                source=gt.GenerateVideosSource(prompt=prompt, image=images[0] if images else None),
                config=gt.GenerateVideosConfig(
                    number_of_videos=1,
                    duration_seconds=request.duration_s,
                    aspect_ratio=request.aspect_ratio,
                    negative_prompt=request.negative_prompt or None,
                    seed=request.seed,
                    reference_images=[
                        gt.VideoGenerationReferenceImage(image=image, reference_type="ASSET")
                        for image in images[:3]
                    ]
                    or None,
                    generate_audio=request.wants_sound if renders_sound(self.model) else None,
                ),
            )
        if not operation.name:
            raise MalformedOutputError("generate: the operation has no name")
        return operation.name

    def poll(self, operation_id: str) -> GenerationStatus:
        """Fetch the operation; when done return the video, a safety filter, or the error."""
        with _provider_errors():
            operation = self.client.operations.get(gt.GenerateVideosOperation(name=operation_id))
        if not operation.done:
            return GenerationStatus(done=False, operation_id=operation_id)
        if operation.error:
            return GenerationStatus(
                done=True, operation_id=operation_id, error=_error_text(operation.error)
            )
        result = operation.response or operation.result
        videos = (result.generated_videos or []) if result else []
        if not videos or not videos[0].video:
            reasons = (result.rai_media_filtered_reasons or []) if result else []
            return GenerationStatus(
                done=True,
                operation_id=operation_id,
                filtered_reason="; ".join(reasons) or "no video returned (filtered)",
            )
        video = videos[0].video
        if not video.video_bytes:
            raise PermanentProviderError(
                f"generate: video delivered by URI ({video.uri}); configure inline bytes"
            )
        return GenerationStatus(
            done=True,
            operation_id=operation_id,
            video=video.video_bytes,
            mime_type=video.mime_type or "video/mp4",
        )


def renders_sound(model: str) -> bool:
    """Tell whether a Veo model renders sound (Veo 3 and later); Veo 2 refuses generateAudio.

    Only these models are sent the field, so an older or unknown model gets the request it
    already accepted, and its takes are checked for sound like any other.
    """
    match = re.match(r"veo-(\d+)", model)
    return bool(match) and int(match.group(1)) >= 3


def _image(path: str) -> gt.Image:
    mime_type = mimetypes.guess_type(path)[0] or "image/png"
    return gt.Image(image_bytes=Path(path).read_bytes(), mime_type=mime_type)


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return f"{error.get('code', '')} {error.get('message', json.dumps(error))}".strip()
    return str(error)


_CRITIC_INSTRUCTION = (
    "You review a take of generated animation for a creative director. You get the reference "
    "images (the characters and style the take must follow), frames sampled from the take with "
    "their times, the shot's prompt and what it must avoid. Judge each criterion: on_model (the "
    "characters look like their references), action_matches_prompt, setting, style (palette, "
    "rendering), forbidden_content (anything the avoid list names, such as text or logos, "
    "appears). For each give passed, a short concrete reason and the time range in seconds it "
    "concerns (the whole take when it is everywhere). Score 0 to 1 overall; 0 for blank or "
    "corrupt frames. Answer in JSON only."
)


class GeminiCritic:
    """Judge a take's frames against its prompt and reference images with a Gemini vision model."""

    def __init__(self, client: genai.Client, model: str = "gemini-2.5-flash") -> None:
        self.client = client
        self.model = model

    def critique(
        self,
        *,
        prompt: str,
        poster_png: bytes,
        references: Sequence[Reference],
        frames: Sequence[ClipFrame] = (),
        negative_prompt: str = "",
    ) -> Critique:
        """Judge the take per criterion; the poster stands in when no frames are given."""
        with _provider_errors():
            response = self.client.models.generate_content(
                model=self.model,
                contents=_critic_contents(prompt, poster_png, references, frames, negative_prompt),
                config=gt.GenerateContentConfig(
                    system_instruction=_CRITIC_INSTRUCTION,
                    response_mime_type="application/json",
                    response_schema=_CritiqueOut,
                    temperature=0.0,
                ),
            )
        out = _parse(_CritiqueOut, response.text, "critique")
        names = [criterion.name for criterion in out.criteria]
        if sorted(names) != sorted(CRITERIA):
            raise MalformedOutputError(
                f"critique: expected one verdict for each of {', '.join(CRITERIA)}, got {names}"
            )
        criteria = tuple(
            CriterionVerdict(
                name=c.name, passed=c.passed, reason=c.reason, start_s=c.start_s, end_s=c.end_s
            )
            for c in out.criteria
        )
        failed = [f"{c.name}: {c.reason}" for c in criteria if not c.passed]
        return Critique(
            score=out.score,
            reasons=(*failed, *out.reasons),
            model=self.model,
            criteria=criteria,
        )


def _critic_contents(
    prompt: str,
    poster_png: bytes,
    references: Sequence[Reference],
    frames: Sequence[ClipFrame],
    negative_prompt: str,
) -> list[Any]:
    """Interleave labels and images: references first, then the take's frames in time order."""
    contents: list[Any] = []
    for reference in references:
        label = f"Reference [asset {reference.asset_id}] {reference.title}"
        if reference.palette:
            label += f" (palette {', '.join(reference.palette)})"
        if reference.image_path:
            contents.append(label + ":")
            contents.append(_image_part(reference.image_path))
        else:
            contents.append(label + " (no image)")
    if frames:
        for frame in frames:
            contents.append(f"Take frame at {frame.time_s:.2f} s:")
            contents.append(gt.Part.from_bytes(data=frame.image, mime_type=frame.mime_type))
    else:
        contents.append("Take poster (middle frame):")
        contents.append(gt.Part.from_bytes(data=poster_png, mime_type="image/png"))
    contents.append(f"Prompt: {prompt}\nAvoid: {negative_prompt or 'nothing named'}")
    return contents


def _image_part(path: str) -> gt.Part:
    data = Path(path).read_bytes()
    return gt.Part.from_bytes(data=data, mime_type=_sniff_image_type(data))


class GeminiEmbedder:
    """Embed text with a Gemini embedding model at a fixed dimensionality."""

    def __init__(
        self, client: genai.Client, model: str = "gemini-embedding-001", dimensions: int = 768
    ) -> None:
        self.client = client
        self.model = model
        self.dimensions = dimensions

    def embed(self, texts: Sequence[str], *, task: EmbedTask = "document") -> list[list[float]]:
        """Return one L2-normalised vector per text, in batches the API accepts."""
        task_type = "RETRIEVAL_QUERY" if task == "query" else "RETRIEVAL_DOCUMENT"
        vectors: list[list[float]] = []
        for start in range(0, len(texts), _EMBED_BATCH):
            batch = list(texts[start : start + _EMBED_BATCH])
            with _provider_errors():
                response = self.client.models.embed_content(
                    model=self.model,
                    contents=batch,
                    config=gt.EmbedContentConfig(
                        output_dimensionality=self.dimensions, task_type=task_type
                    ),
                )
            embeddings = response.embeddings or []
            if len(embeddings) != len(batch):
                raise MalformedOutputError(
                    f"embed: sent {len(batch)} texts, got {len(embeddings)} vectors"
                )
            vectors.extend(self._normalised(e.values or []) for e in embeddings)
        return vectors

    def _normalised(self, values: list[float]) -> list[float]:
        # Gemini only normalises at its full 3072 dimensions; truncated vectors need it here.
        if len(values) != self.dimensions:
            raise MalformedOutputError(
                f"embed: expected {self.dimensions} dimensions, got {len(values)}"
            )
        norm = math.sqrt(sum(v * v for v in values))
        if not norm:
            raise MalformedOutputError("embed: zero vector")
        return [v / norm for v in values]


class GeminiCaptioner:
    """Caption catalog images with a Gemini vision model."""

    def __init__(self, client: genai.Client, model: str = "gemini-2.5-flash") -> None:
        self.client = client
        self.model = model

    def caption(self, image_bytes: bytes, *, hint: str) -> str:
        """Describe an image for search, guided by a hint such as its title."""
        mime_type = _sniff_image_type(image_bytes)
        with _provider_errors():
            response = self.client.models.generate_content(
                model=self.model,
                contents=[
                    gt.Part.from_bytes(data=image_bytes, mime_type=mime_type),
                    "Describe this image in two sentences for a search index: subjects, "
                    f"setting, colours, mood. It is titled: {hint}",
                ],
                config=gt.GenerateContentConfig(temperature=0.2),
            )
        text = (response.text or "").strip()
        if not text:
            raise MalformedOutputError("caption: empty response")
        return text


def _sniff_image_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/png"
