"""The operations the JSON API and the MCP server share, acting as one user with their role.

Each function checks what the user's role allows, calls the same service or selector the web
views call, and returns a schema object; a refusal is an ApiError carrying the HTTP status.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone

from briefs.models import Brief, Shot, Take
from briefs.selectors import brief_shots, continuity_sheet, visible_briefs
from briefs.services import BriefError, brief_submit
from integrations.api import schemas
from retrieval.models import IP, Asset
from retrieval.selectors import search_assets as hybrid_search
from retrieval.selectors import visible_assets, visible_ips
from review import client_links
from review.models import ReviewLink
from review.selectors import QueueFilters
from review.selectors import review_queue as queue
from review.services import (
    DecisionConflict,
    ReviewError,
    decide,
    may_promote,
    take_signoff,
)
from review.services import add_note as pin_note
from review.services import promote_take as promote
from studio.roles import Role, has_role, roles_of


class ApiError(Exception):
    """A refused operation: `status` is the HTTP status, `detail` the message for the caller."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _require_any_role(user: Any) -> None:
    if not roles_of(user):
        raise ApiError(403, "Your account has no Studio role yet; ask an admin for one.")


def _require(user: Any, *roles: Role) -> None:
    if not any(has_role(user, role) for role in roles):
        raise ApiError(403, "Only " + " or ".join(f"{r.label}s" for r in roles) + " may do this.")


def _page(items: list, *, limit: int, offset: int) -> schemas.Page:
    """Build a page from up to limit + 1 fetched items (the extra one says there is more)."""
    more = len(items) > limit
    return schemas.Page(
        items=items[:limit],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if more else None,
    )


def _name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


# --- Catalog ------------------------------------------------------------------------------------
def asset_out(asset: Asset) -> schemas.AssetOut:
    rights = getattr(asset, "rights", None)
    return schemas.AssetOut(
        id=asset.pk,
        ip=asset.ip.slug,
        kind=asset.kind,
        title=asset.title,
        description=asset.description,
        caption=asset.caption,
        tags=list(asset.tags),
        mime_type=asset.mime_type,
        width=asset.width,
        height=asset.height,
        duration_s=asset.duration_s,
        palette=list(asset.palette),
        version=asset.version,
        is_current=asset.is_current,
        file_url=asset.file.url if asset.file else "",
        page_url=asset.get_absolute_url(),
        rights=None
        if rights is None
        else schemas.RightsOut(
            holder=rights.holder,
            licence=rights.licence,
            worldwide=rights.worldwide,
            territories=list(rights.territories),
            valid_from=rights.valid_from,
            valid_until=rights.valid_until,
            reference_use_allowed=rights.reference_use_allowed,
        ),
    )


def _ip(slug: str, user: Any, *roles: Role) -> IP:
    ip = visible_ips(user, *roles).filter(slug=slug).first()
    if ip is None:
        raise ApiError(404, f"No IP with the slug “{slug}” on your teams.")
    return ip


def search_assets(
    *,
    user: Any,
    ip: str,
    query: str,
    territory: str | None = None,
    on_date: date | None = None,
    use: str = "reference",
    kinds: list[str] | None = None,
    limit: int = 10,
    offset: int = 0,
) -> schemas.Page:
    """Rank an IP's rights-cleared assets for a query (hybrid vector + full-text search)."""

    _require_any_role(user)
    hits = hybrid_search(
        ip=_ip(ip, user),
        query=query,
        k=offset + limit + 1,
        territory=territory,
        on_date=on_date,
        use="reference" if use == "reference" else None,
        kinds=kinds or None,
    )
    items = [
        schemas.AssetHitOut(
            asset=asset_out(hit.asset),
            score=hit.score,
            distance=hit.distance,
            vector_rank=hit.vector_rank,
            text_rank=hit.text_rank,
        )
        for hit in hits[offset:]
    ]
    return _page(items, limit=limit, offset=offset)


def get_asset(*, user: Any, asset_id: int) -> schemas.AssetOut:
    """Return one catalog asset with its rights."""
    _require_any_role(user)
    asset = visible_assets(user).select_related("ip", "rights").filter(pk=asset_id).first()
    if asset is None:
        raise ApiError(404, f"No asset {asset_id}.")
    return asset_out(asset)


def style_guide(*, user: Any, ip: str) -> dict:
    """Return an IP's look: logline, style notes, palette, characters and style-guide texts."""
    _require_any_role(user)
    found = (
        visible_ips(user)
        .filter(slug=ip)
        .prefetch_related(
            "characters",
            Prefetch(
                "assets",
                queryset=Asset.objects.filter(
                    is_current=True, kind=Asset.Kind.STYLE_GUIDE
                ).order_by("title"),
                to_attr="style_guides",
            ),
        )
        .first()
    )
    if found is None:
        raise ApiError(404, f"No IP with the slug “{ip}”.")
    return {
        "ip": found.slug,
        "name": found.name,
        "logline": found.logline,
        "style_notes": found.style_notes,
        "palette": list(found.palette),
        "characters": [
            {"name": c.name, "description": c.description, "visual_traits": c.visual_traits}
            for c in found.characters.all()
        ],
        "style_guides": [
            {"asset_id": a.pk, "title": a.title, "text": a.description or a.caption}
            for a in found.style_guides
        ],
    }


# --- Briefs -------------------------------------------------------------------------------------
def take_out(take: Take) -> schemas.TakeOut:
    return schemas.TakeOut(
        id=take.pk,
        number=take.number,
        status=take.status,
        version=take.version,
        confidence=take.confidence,
        checks_passed=take.checks_passed,
        duration_s=take.duration_s,
        media_url=reverse("briefs:take_media", args=[take.pk]) if take.media else None,
        has_audio=take.has_audio,
        audio=take.audio,
    )


def _brief_fields(brief: Brief) -> dict:
    return {
        "id": brief.pk,
        "ip": brief.ip.slug,
        "title": brief.title,
        "status": brief.status,
        "status_reason": brief.status_reason,
        "shot_count": brief.shot_count,
        "aspect_ratio": brief.aspect_ratio,
        "seconds_per_shot": brief.seconds_per_shot,
        "sound": brief.sound,
        "territory": brief.territory,
        "release_date": brief.release_date,
        "producer": brief.producer.get_username(),
        "created_at": brief.created_at,
        "completed_at": brief.completed_at,
        "page_url": brief.get_absolute_url(),
    }


def submit_brief(*, user: Any, data: schemas.BriefIn) -> schemas.BriefOut:
    """Submit a brief as a producer; the pipeline starts once it is saved."""

    _require(user, Role.PRODUCER)
    try:
        brief = brief_submit(
            producer=user,
            ip=_ip(data.ip, user, Role.PRODUCER),
            title=data.title,
            beat=data.beat,
            tone=data.tone,
            shot_count=data.shot_count,
            aspect_ratio=data.aspect_ratio,
            seconds_per_shot=data.seconds_per_shot,
            territory=data.territory,
            release_date=data.release_date,
            negative_prompt=data.negative_prompt,
            budget_cap=_cents(data.budget_cap),
            requires_plan_approval=data.requires_plan_approval,
            pinned_reference_ids=tuple(dict.fromkeys(data.pinned_reference_ids)),
            checklist=tuple(data.checklist),
            sound=data.sound,
        )
    except BriefError as exc:
        raise ApiError(400, str(exc)) from exc
    brief = Brief.objects.select_related("ip", "producer").get(pk=brief.pk)
    return schemas.BriefOut(**_brief_fields(brief))


def _cents(amount: float | None) -> Decimal | None:
    if amount is None:
        return None
    return Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _visible_briefs(user: Any) -> QuerySet[Brief]:

    return visible_briefs(user)


def list_briefs(
    *, user: Any, status: str | None = None, limit: int = 20, offset: int = 0
) -> schemas.Page:
    """List the briefs the user may see, newest first."""
    _require_any_role(user)
    briefs = _visible_briefs(user).order_by("-created_at", "-pk")
    if status:
        briefs = briefs.filter(status=status)
    items = [schemas.BriefOut(**_brief_fields(b)) for b in briefs[offset : offset + limit + 1]]
    return _page(items, limit=limit, offset=offset)


def _shot_out(shot: Shot) -> schemas.ShotOut:
    takes = list(shot.takes.all())
    current = next((t for t in takes if t.is_current), None)
    return schemas.ShotOut(
        id=shot.pk,
        order=shot.order,
        status=shot.status,
        status_reason=shot.status_reason,
        prompt=shot.prompt,
        camera=shot.camera,
        duration_s=shot.duration_s,
        audio=shot.audio,
        current_take=take_out(current) if current else None,
        take_count=len(takes),
    )


def brief_status(*, user: Any, brief_id: int) -> schemas.BriefDetailOut:
    """Return a brief the user may see, with its shots and each shot's current take."""

    _require_any_role(user)
    brief = _visible_briefs(user).filter(pk=brief_id).first()
    if brief is None:
        raise ApiError(404, f"No brief {brief_id} that you can see.")
    return schemas.BriefDetailOut(
        **_brief_fields(brief),
        beat=brief.beat,
        spent=brief.spent,
        budget_cap=brief.budget_cap,
        shots=[_shot_out(shot) for shot in brief_shots(brief)],
    )


def continuity(*, user: Any, brief_id: int) -> schemas.ContinuityOut:
    """Return a brief's continuity sheet: each shot's look and each scored pair's parts."""
    _require(user, Role.CREATIVE_DIRECTOR, Role.PRODUCER)
    brief = _visible_briefs(user).filter(pk=brief_id).first()
    if brief is None:
        raise ApiError(404, f"No brief {brief_id} that you can see.")
    sheet = continuity_sheet(brief)
    shots = [
        schemas.ContinuityShotOut(
            shot_id=row.shot.pk,
            order=row.shot.order,
            take_id=row.take.pk if row.take else None,
            measured=row.look is not None,
            palette=[tuple(colour) for colour in row.look.palette] if row.look else [],
            luminance=row.look.luminance if row.look else None,
            colour_temperature_k=row.look.colour_temperature_k if row.look else None,
            keyframe_urls=[
                reverse("briefs:take_keyframe", args=[row.take.pk, frame["index"]])
                for frame in row.keyframes
            ],
            drift_reason=row.drift_reason,
        )
        for row in sheet.shots
    ]
    pairs = [
        schemas.ContinuityPairOut(
            first_shot=row.first.shot.order,
            second_shot=row.second.shot.order,
            first_take_id=row.pair.first_id,
            second_take_id=row.pair.second_id,
            characters=[character.name for character in row.characters],
            look=row.pair.look,
            palette=row.pair.palette,
            light=row.pair.light,
            drift=row.pair.drift,
            drifted=row.pair.drifted,
        )
        for row in sheet.pairs
    ]
    return schemas.ContinuityOut(
        brief_id=brief.pk,
        limits=sheet.limits,
        unmeasured=sheet.unmeasured,
        shots=shots,
        pairs=pairs,
        sheet_url=reverse("review:continuity", args=[brief.pk]),
    )


# --- Review -------------------------------------------------------------------------------------
def review_queue(
    *,
    user: Any,
    ip: str = "",
    brief_id: int | None = None,
    status: str = "",
    limit: int = 20,
    offset: int = 0,
) -> schemas.Page:
    """List current takes waiting for a director, within the briefs the user may see."""

    _require(user, Role.CREATIVE_DIRECTOR, Role.PRODUCER)
    takes = queue(user=user, filters=QueueFilters(ip=ip, brief=brief_id, status=status)).filter(
        shot__brief__in=_visible_briefs(user).values("pk")
    )
    items = [
        schemas.QueueItemOut(
            take=take_out(take),
            shot_id=take.shot_id,
            shot_order=take.shot.order,
            brief_id=take.shot.brief_id,
            brief_title=take.shot.brief.title,
            ip=take.shot.brief.ip.slug,
            routed_reason=take.status_reason if take.status == Take.Status.ROUTED else "",
            board_url=reverse("review:board", args=[take.shot.brief_id]),
        )
        for take in takes[offset : offset + limit + 1]
    ]
    return _page(items, limit=limit, offset=offset)


def _visible_take(user: Any, take_id: int) -> Take:
    take = (
        Take.objects.select_related("shot__brief")
        .filter(pk=take_id, shot__brief__in=_visible_briefs(user).values("pk"))
        .first()
    )
    if take is None:
        raise ApiError(404, f"No take {take_id} that you can see.")
    return take


def add_note(*, user: Any, take_id: int, data: schemas.NoteIn) -> schemas.NoteOut:
    """Pin a note to a moment (or range) of a take, as a producer or a director."""

    _require(user, Role.CREATIVE_DIRECTOR, Role.PRODUCER)
    take = _visible_take(user, take_id)
    try:
        note = pin_note(
            take=take,
            user=user,
            body=data.body,
            timecode_start=data.timecode_start,
            timecode_end=data.timecode_end,
            about_sound=data.about_sound,
        )
    except PermissionDenied as exc:
        raise ApiError(403, str(exc)) from exc
    except ReviewError as exc:
        raise ApiError(400, str(exc)) from exc
    return schemas.NoteOut(
        id=note.pk,
        take_id=take.pk,
        author=_name(user),
        body=note.body,
        timecode_start=note.timecode_start,
        timecode_end=note.timecode_end,
        about_sound=note.about_sound,
        created_at=note.created_at,
    )


def decide_take(*, user: Any, take_id: int, data: schemas.DecisionIn) -> schemas.DecisionOut:
    """Approve or reject the take version the director saw; 409 when someone got there first."""

    _require(user, Role.CREATIVE_DIRECTOR)
    if data.verdict == "rejected" and not data.reason:
        raise ApiError(400, "Choose a reason for the rejection.")
    take = _visible_take(user, take_id)
    try:
        decision = decide(
            take=take,
            user=user,
            verdict=data.verdict,
            expected_version=data.expected_version,
            reason_code=data.reason if data.verdict == "rejected" else "",
            reason_text=data.reason_text,
            checklist=dict.fromkeys(data.checklist, True),
        )
    except PermissionDenied as exc:
        raise ApiError(403, str(exc)) from exc
    except DecisionConflict as exc:
        raise ApiError(409, exc.message) from exc
    except ReviewError as exc:
        raise ApiError(409, str(exc)) from exc
    take.refresh_from_db()
    state = take_signoff(take=take)
    return schemas.DecisionOut(
        id=decision.pk,
        take=take_out(take),
        verdict=decision.verdict,
        reason=decision.reason,
        reason_text=decision.reason_text,
        decided_by=_name(user),
        created_at=decision.created_at,
        effect=decision.effect,
        signoff=schemas.SignOffOut(
            required=state.needed,
            signed_by=state.signed_by,
            awaited=state.awaited,
            disputed=state.disputed,
        ),
    )


def promote_take(*, user: Any, take_id: int) -> schemas.AssetOut:
    """Put an approved take into the catalog as a clip, as a catalog admin who can see it."""
    # The same check the service makes, first: a refusal must not say whether the take exists.
    if not has_role(user, Role.CATALOG_ADMIN):
        raise ApiError(403, "Only Catalog Admins may put takes into the catalog.")
    take = _visible_take(user, take_id)
    if not may_promote(user, take.shot.brief.ip_id):
        raise ApiError(403, f"Only {take.shot.brief.ip}'s Catalog Admins may do this.")
    try:
        result = promote(take=take, user=user)
    except PermissionDenied as exc:
        raise ApiError(403, str(exc)) from exc
    except ReviewError as exc:
        raise ApiError(409, str(exc)) from exc
    return asset_out(Asset.objects.select_related("ip", "rights").get(pk=result.asset.pk))


def shot_list(*, user: Any, brief_id: int) -> list[dict]:
    """Return a brief's shot list as plain data, for the MCP resource."""
    detail = brief_status(user=user, brief_id=brief_id)
    return [shot.model_dump(mode="json") for shot in detail.shots]


# --- Client review links ------------------------------------------------------------------------
def _shareable_brief(user: Any, brief_id: int) -> Brief:
    _require(user, Role.PRODUCER, Role.CREATIVE_DIRECTOR)
    brief = client_links.shareable_briefs(user).filter(pk=brief_id).first()
    if brief is None:
        raise ApiError(404, f"No brief {brief_id} that you can see.")
    return brief


def review_link_out(link: ReviewLink, **extra: Any) -> schemas.ReviewLinkOut:
    closed = client_links.closed_message(link)
    status = "revoked" if link.revoked_at else ("expired" if closed else "active")
    values = dict(
        id=link.pk,
        brief_id=link.brief_id,
        label=link.label,
        token_prefix=link.token_prefix,
        shot_ids=sorted(shot.pk for shot in link.shots.all()),
        has_password=link.has_password,
        watermark=link.watermark,
        created_by=_name(link.created_by),
        created_at=link.created_at,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        status=status,
        opens=getattr(link, "opens", 0),
        notes=getattr(link, "note_count", 0),
        verdicts=getattr(link, "verdict_count", 0),
    )
    schema = schemas.ReviewLinkCreatedOut if "path" in extra else schemas.ReviewLinkOut
    return schema(**values, **extra)


def list_review_links(*, user: Any, brief_id: int) -> list[schemas.ReviewLinkOut]:
    """List a brief's client review links with their counts, newest first."""
    brief = _shareable_brief(user, brief_id)
    links = client_links.brief_links(brief=brief).prefetch_related("shots")
    return [review_link_out(link) for link in links]


def create_review_link(
    *, user: Any, brief_id: int, data: schemas.ReviewLinkIn
) -> schemas.ReviewLinkCreatedOut:
    """Make a client review link; its path (with the token) is returned only this once."""
    brief = _shareable_brief(user, brief_id)
    try:
        link, token = client_links.link_create(
            brief=brief,
            user=user,
            label=data.label,
            expires_at=timezone.now() + timedelta(days=data.days),
            password=data.password,
            shot_ids=list(data.shot_ids),
            watermark=data.watermark,
        )
    except client_links.ClientLinkError as exc:
        raise ApiError(400, str(exc)) from exc
    return review_link_out(link, path=reverse("client_review:open", args=[token]))


def revoke_review_link(*, user: Any, link_id: int) -> schemas.ReviewLinkOut:
    """Revoke a client review link at once; revoking twice keeps the first time."""
    _require(user, Role.PRODUCER, Role.CREATIVE_DIRECTOR)
    link = ReviewLink.objects.filter(
        pk=link_id, brief__in=client_links.shareable_briefs(user).values("pk")
    ).first()
    if link is None:
        raise ApiError(404, f"No review link {link_id} that you can see.")
    client_links.link_revoke(link=link, user=user)
    return review_link_out(client_links.brief_links(brief=link.brief).get(pk=link.pk))


def list_client_verdicts(*, user: Any, brief_id: int) -> list[schemas.ClientVerdictOut]:
    """List what clients said of a brief's takes through review links, oldest first."""
    brief = _shareable_brief(user, brief_id)
    return [
        schemas.ClientVerdictOut(
            id=given.pk,
            link_id=given.link_id,
            link_label=given.link.label,
            take_id=given.take_id,
            shot_id=given.take.shot_id,
            shot_order=given.take.shot.order,
            viewer_name=given.viewer_name,
            verdict=given.verdict,
            comment=given.comment,
            created_at=given.created_at,
        )
        for given in client_links.client_verdicts(brief=brief)
    ]
