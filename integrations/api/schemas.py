"""What the API and the MCP tools accept and return; the OpenAPI schema is built from these."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Generic, Literal, TypeVar

from ninja import Schema
from pydantic import AfterValidator, Field

MAX_ID = 2_147_483_647
MAX_OFFSET = 10_000


def _no_surrogates(value: str) -> str:
    # PostgreSQL stores UTF-8; a lone surrogate cannot be encoded, so refuse it as input.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("Text must be valid Unicode.") from exc
    return value


def text(max_length: int, min_length: int = 0):
    """Return a string type PostgreSQL can store: bounded, no NUL bytes, valid UTF-8."""
    return Annotated[
        str,
        Field(min_length=min_length, max_length=max_length, pattern=r"^[^\x00]*$"),
        AfterValidator(_no_surrogates),
    ]


ObjectId = Annotated[int, Field(ge=1, le=MAX_ID)]
Slug = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[-a-zA-Z0-9_]+$")]
Territory = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")]
AssetKind = Literal["still", "clip", "style_frame", "style_guide", "logo"]
Sound = Literal["dialogue", "ambience", "none"]

ShortText = text(200)
Tone = text(100)
Title = text(200, 1)
LongText = text(5000)
Body = text(5000, 1)

T = TypeVar("T")


class Page(Schema, Generic[T]):
    """One page of a list; ask again with offset=next_offset while it is not null."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


class Error(Schema):
    detail: str


class RightsOut(Schema):
    holder: str
    licence: str
    worldwide: bool
    territories: list[str]
    valid_from: date | None
    valid_until: date | None
    reference_use_allowed: bool


class AssetOut(Schema):
    id: int
    ip: str
    kind: str
    title: str
    description: str
    caption: str
    tags: list[str]
    mime_type: str
    width: int | None
    height: int | None
    duration_s: float | None
    palette: list[str]
    version: int
    is_current: bool
    file_url: str
    page_url: str
    rights: RightsOut | None


class AssetHitOut(Schema):
    asset: AssetOut
    score: float = Field(description="Reciprocal-rank fusion, normalised: 1.0 = first in both")
    distance: float | None = Field(description="Cosine distance of the vector match")
    vector_rank: int | None
    text_rank: int | None


class BriefIn(Schema):
    ip: Slug
    title: Title
    beat: Body
    tone: Tone = ""
    shot_count: int = Field(ge=1, le=24)
    aspect_ratio: Literal["16:9", "9:16"]
    seconds_per_shot: Literal[4, 6, 8]
    territory: Territory
    release_date: date
    negative_prompt: LongText = ""
    budget_cap: float | None = Field(
        default=None, ge=0.01, le=99_999_999, allow_inf_nan=False, description="In USD, to cents"
    )
    requires_plan_approval: bool = False
    pinned_reference_ids: list[ObjectId] = Field(default_factory=list, max_length=50)
    checklist: list[ShortText] = Field(default_factory=list, max_length=20)
    sound: Sound = Field(
        default="ambience",
        description="What the shots sound like: dialogue (over ambience), ambience, or none",
    )


class TakeOut(Schema):
    id: int
    number: int
    status: str
    version: int = Field(description="Send it back as expected_version when deciding")
    confidence: float | None
    checks_passed: bool | None
    duration_s: float | None
    media_url: str | None
    has_audio: bool | None = Field(description="The clip has an audio track (None: unchecked)")
    audio: str = Field(description="The audio line this take was asked for")


class ShotOut(Schema):
    id: int
    order: int
    status: str
    status_reason: str
    prompt: str
    camera: str
    duration_s: int
    audio: str = Field(description="What is heard, as planned (empty: no sound asked)")
    current_take: TakeOut | None
    take_count: int


class BriefOut(Schema):
    id: int
    ip: str
    title: str
    status: str
    status_reason: str
    shot_count: int
    aspect_ratio: str
    seconds_per_shot: int
    sound: str
    territory: str
    release_date: date
    producer: str
    created_at: datetime
    completed_at: datetime | None
    page_url: str


class BriefDetailOut(BriefOut):
    beat: str
    spent: Decimal
    budget_cap: Decimal | None
    shots: list[ShotOut]


class ContinuityShotOut(Schema):
    shot_id: int
    order: int
    take_id: int | None
    measured: bool
    palette: list[tuple[str, float]] = Field(description="Colours and their share of pixels")
    luminance: float | None = Field(description="CIE L* of the mean colour, 0..100")
    colour_temperature_k: float | None
    keyframe_urls: list[str]
    drift_reason: str = Field(description="Why the take was routed for drift; empty if it keeps")


class ContinuityPairOut(Schema):
    first_shot: int = Field(description="Shot order")
    second_shot: int = Field(description="Shot order")
    first_take_id: int
    second_take_id: int
    characters: list[str] = Field(description="Characters both shots show")
    look: float | None = Field(description="Chroma drift of the shared character's shots")
    palette: float
    light: float
    drift: float = Field(description="The worst part as a share of its limit; above 1 drifts")
    drifted: bool


class ContinuityOut(Schema):
    brief_id: int
    limits: dict[str, float]
    unmeasured: int
    shots: list[ContinuityShotOut]
    pairs: list[ContinuityPairOut] = Field(description="Worst first")
    sheet_url: str


class QueueItemOut(Schema):
    take: TakeOut
    shot_id: int
    shot_order: int
    brief_id: int
    brief_title: str
    ip: str
    routed_reason: str
    board_url: str


class NoteIn(Schema):
    body: Body
    timecode_start: float = Field(ge=0, le=86_400, allow_inf_nan=False)
    timecode_end: float | None = Field(default=None, ge=0, le=86_400, allow_inf_nan=False)
    about_sound: bool = Field(default=False, description="The note is about what is heard")


class NoteOut(Schema):
    id: int
    take_id: int
    author: str
    body: str
    timecode_start: float
    timecode_end: float | None
    about_sound: bool
    created_at: datetime


class DecisionIn(Schema):
    verdict: Literal["approved", "rejected"]
    expected_version: int = Field(ge=1, le=MAX_ID, description="The take version you looked at")
    reason: Literal[
        "",
        "off_brand",
        "character_inconsistency",
        "artefacts",
        "wrong_framing",
        "continuity",
        "rights_concern",
        "other",
    ] = Field(default="", description="Required when rejecting")
    reason_text: LongText = ""
    checklist: list[ShortText] = Field(
        default_factory=list, max_length=20, description="The brief's criteria you ticked"
    )


class SignOffOut(Schema):
    required: int = Field(description="Approvals from different directors the shot needs")
    signed_by: list[str]
    awaited: int = Field(description="Approvals still missing")
    disputed: bool = Field(description="Directors disagree; a lead director decides")


class DecisionOut(Schema):
    id: int
    take: TakeOut
    verdict: str
    reason: str
    reason_text: str
    decided_by: str
    created_at: datetime
    effect: str = Field(description="moved, signed (others awaited), disputed or ruled")
    signoff: SignOffOut


class ReviewLinkIn(Schema):
    label: Title = Field(description="Who the link is for, e.g. the agency")
    days: int = Field(default=14, ge=1, le=365, description="Days until the link expires")
    password: text(128) = Field(default="", description="Optional; send it to the client apart")
    shot_ids: list[ObjectId] = Field(
        default_factory=list, max_length=200, description="Shots to share; empty: every shot"
    )
    watermark: bool = True


class ReviewLinkOut(Schema):
    id: int
    brief_id: int
    label: str
    token_prefix: str
    shot_ids: list[int] = Field(description="Shared shots; empty: every shot of the brief")
    has_password: bool
    watermark: bool
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    status: Literal["active", "expired", "revoked"]
    opens: int
    notes: int
    verdicts: int


class ReviewLinkCreatedOut(ReviewLinkOut):
    path: str = Field(description="The link's path on this site, shown only this once")


class ClientVerdictOut(Schema):
    id: int
    link_id: int
    link_label: str
    take_id: int
    shot_id: int
    shot_order: int
    viewer_name: str
    verdict: Literal["approved", "changes_requested"]
    comment: str
    created_at: datetime
