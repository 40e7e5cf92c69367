"""Reads for briefs: who sees what, and everything the brief page renders in a few queries."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Prefetch, Q, QuerySet

from briefs.models import Brief, ContinuityPair, Handoff, Shot, Take
from briefs.pipeline import BRIEF_PIPELINE_IDLE, TAKE_STEP_FOR_STATUS
from briefs.pipeline.continuity import pair_parts
from briefs.qc.continuity import continuity_limits
from studio.roles import Role, has_role
from teams.selectors import ip_ids_for


def visible_briefs(user: Any) -> QuerySet[Brief]:
    """Return the briefs a user may see: on IPs they direct, every brief; on IPs they produce
    for, their own. Every brief read (pages, board, dashboards, exports, API, MCP) starts here.
    """
    briefs = Brief.objects.select_related("ip", "producer")
    if user.is_superuser:
        return briefs
    if not (has_role(user, Role.CREATIVE_DIRECTOR) or has_role(user, Role.PRODUCER)):
        return briefs.none()
    return briefs.filter(
        Q(ip__in=ip_ids_for(user, Role.CREATIVE_DIRECTOR))
        | Q(producer=user, ip__in=ip_ids_for(user, Role.PRODUCER))
    )


@dataclass(frozen=True)
class AssetUse:
    """One place a catalog asset was used, phrased for the asset page."""

    text: str
    brief: Brief


def asset_usage(*, asset_id: int, user: Any) -> list[AssetUse]:
    """Return where a catalog asset was used, only in briefs the user may see."""
    briefs = visible_briefs(user)
    visible = briefs.values("pk")
    shots = Shot.objects.filter(references=asset_id, brief__in=visible).select_related("brief")
    takes = Take.objects.filter(references=asset_id, shot__brief__in=visible)
    return [
        *(AssetUse("Pinned in brief", b) for b in briefs.filter(pinned_references=asset_id)),
        *(
            AssetUse("Retrieved as a reference for brief", b)
            for b in briefs.filter(references=asset_id)
        ),
        *(AssetUse(f"Reference for {shot} in", shot.brief) for shot in shots),
        *(AssetUse(f"Used by {t} in", t.shot.brief) for t in takes.select_related("shot__brief")),
    ]


def brief_list(*, user: Any) -> QuerySet[Brief]:
    """Return visible briefs with their shot progress counted."""
    return visible_briefs(user).annotate(
        shots_total=Count("shots", distinct=True),
        shots_ready=Count(
            "shots",
            filter=Q(shots__status__in=(Shot.Status.READY, Shot.Status.APPROVED)),
            distinct=True,
        ),
    )


def visible_take(*, user: Any, take_id: int) -> Take | None:
    """Return the take if the user may see its brief, else None."""
    return (
        Take.objects.filter(pk=take_id, shot__brief__in=visible_briefs(user).values("pk"))
        .only("pk", "media", "poster", "updated_at")
        .first()
    )


@dataclass(frozen=True)
class StepState:
    """One step of the pipeline as the brief page shows it."""

    key: str
    label: str
    state: str  # done | active | waiting | problem | skipped


@dataclass(frozen=True)
class Progress:
    """What the brief page's live panel shows."""

    steps: list[StepState]
    shots_total: int
    shots_done: int
    percent: int
    waiting_on: str
    is_live: bool
    version: str


_ORDER = ["retrieve", "plan", "ground", "plan_gate", "generate", "check", "review"]
_LABELS = dict(Handoff.Step.choices)


def brief_shots(brief: Brief) -> list[Shot]:
    """Return the brief's shots with their takes (current first) and references."""
    takes = Take.objects.order_by("-is_current", "-number").prefetch_related("references")
    return list(
        brief.shots.prefetch_related(Prefetch("takes", queryset=takes), "references").order_by(
            "order"
        )
    )


def recent_handoffs(brief: Brief, limit: int = 40) -> list[Handoff]:
    """Return the brief's latest handoffs, newest first."""
    return list(
        brief.handoffs.select_related("shot", "take").order_by("-started_at", "-pk")[:limit]
    )


def brief_progress(brief: Brief, shots: list[Shot]) -> Progress:
    """Summarise where the brief is, who it waits on, and whether the page should keep polling."""

    S = Brief.Status
    current = [next((t for t in shot.takes.all() if t.is_current), None) for shot in shots]
    in_flight = [t for t in current if t and t.status in TAKE_STEP_FOR_STATUS]
    done_statuses = (Take.Status.READY, Take.Status.APPROVED, Take.Status.ROUTED)
    done = sum(1 for t in current if t and t.status in done_statuses)
    total = len(shots) or brief.shot_count
    reached = {
        S.QUEUED: 0,
        S.RETRIEVING: 0,
        S.PLANNING: 1,
        S.AWAITING_PLAN_APPROVAL: 3,
        S.GENERATING: 4,
        S.IN_REVIEW: 6,
        S.COMPLETED: 7,
    }
    generating = reached[S.GENERATING]
    position = reached.get(brief.status)
    if position is None:  # needs attention, cancelled, failed: find where it stopped
        position = generating if shots else (1 if brief.references.exists() else 0)
    steps = []
    for index, key in enumerate(_ORDER):
        if key == "plan_gate" and not brief.requires_plan_approval:
            state = "skipped"
        elif index < position:
            state = "done"
        elif index == position or (key == "check" and position == generating):
            problem = brief.status in (S.NEEDS_ATTENTION, S.FAILED, S.CANCELLED)
            state = "problem" if problem else "active"
        else:
            state = "waiting"
        steps.append(StepState(key, _LABELS[key], state))
    is_live = brief.status not in BRIEF_PIPELINE_IDLE or bool(in_flight)
    stamp = max([brief.updated_at, *(t.updated_at for t in current if t)])
    version = hashlib.blake2b(
        f"{brief.status}|{stamp.isoformat()}|{brief.spent}|{len(shots)}".encode(), digest_size=8
    ).hexdigest()
    return Progress(
        steps=steps,
        shots_total=total,
        shots_done=done,
        percent=round(100 * done / total) if total else 0,
        waiting_on=_waiting_on(brief, shots, in_flight),
        is_live=is_live,
        version=version,
    )


def progress_version(brief_id: int) -> str | None:
    """Return the same version as brief_progress, in two cheap queries (None if not found)."""
    brief = Brief.objects.filter(pk=brief_id).values("status", "updated_at", "spent").first()
    if brief is None:
        return None
    takes = Take.objects.filter(shot__brief_id=brief_id, is_current=True).aggregate(
        stamp=Max("updated_at")
    )
    shots = Shot.objects.filter(brief_id=brief_id).count()
    stamp = max(s for s in (brief["updated_at"], takes["stamp"]) if s)
    return hashlib.blake2b(
        f"{brief['status']}|{stamp.isoformat()}|{brief['spent']}|{shots}".encode(), digest_size=8
    ).hexdigest()


def _waiting_on(brief: Brief, shots: list[Shot], in_flight: list[Take]) -> str:
    S = Brief.Status
    if brief.status in (S.QUEUED, S.RETRIEVING, S.PLANNING):
        return "Waiting on the pipeline: " + brief.get_status_display().lower() + "."
    if brief.status == S.AWAITING_PLAN_APPROVAL:
        return "Waiting on the producer or a creative director to approve the shot plan."
    if brief.status == S.GENERATING or in_flight:
        return f"Waiting on the pipeline: {len(in_flight)} take(s) generating or being checked."
    if brief.status == S.IN_REVIEW:
        routed = sum(1 for shot in shots if shot.status == Shot.Status.NEEDS_HUMAN)
        ready = sum(1 for shot in shots if shot.status == Shot.Status.READY)
        note = f" ({routed} routed with reasons)" if routed else ""
        return f"Waiting on a creative director to review {ready + routed} shot(s){note}."
    if brief.status == S.NEEDS_ATTENTION:
        return "Waiting on the producer: " + (brief.status_reason or "the pipeline needs help.")
    if brief.status == S.COMPLETED:
        return "Nothing: every shot has an approved take."
    return brief.status_reason or brief.get_status_display()


@dataclass
class SheetShot:
    """One shot on the continuity sheet: its current take and what was measured of it."""

    shot: Shot
    take: Take | None
    look: Any  # TakeLook | None: not measured yet (or no playable take)
    keyframes: list[dict]  # [{"index", "time_s"}]
    drift_reason: str
    compared: int = 0  # scored pairs with the brief's other shots

    @property
    def swatches(self) -> list[dict]:
        """Return the palette as SVG bars across 0..100: colour, x, width, share in percent."""
        bars, x = [], 0.0
        for colour, share in self.look.palette if self.look else []:
            width = share * 100
            bars.append({"colour": colour, "x": round(x, 2), "width": round(width, 2)})
            x += width
        return bars


@dataclass(frozen=True)
class SheetCharacter:
    """A character of the brief's IP, its catalog references and every shot it appears in."""

    character: Any
    references: list[Any]
    shots: list[tuple[SheetShot, float | None]]  # with the take's stray from the references


@dataclass(frozen=True)
class SheetPair:
    """A scored pair of shots: each part beside its limit."""

    pair: ContinuityPair
    first: SheetShot
    second: SheetShot
    parts: list[tuple[str, float | None, float, bool]]  # name, value, limit, beyond
    characters: list[Any]


@dataclass(frozen=True)
class ContinuitySheet:
    """Everything the continuity sheet (and its API and MCP reads) show for one brief."""

    brief: Brief
    shots: list[SheetShot]
    characters: list[SheetCharacter]
    pairs: list[SheetPair]
    limits: dict[str, float]
    unmeasured: int

    @property
    def drifted_pairs(self) -> int:
        return sum(1 for pair in self.pairs if pair.pair.drifted)


def continuity_sheet(brief: Brief) -> ContinuitySheet:
    """Return the brief's continuity sheet: shots, characters with references, scored pairs."""
    shots = list(
        brief.shots.prefetch_related(
            "characters",
            Prefetch(
                "takes",
                queryset=Take.objects.filter(is_current=True).select_related("look"),
                to_attr="current_takes",
            ),
        ).order_by("order")
    )
    sheet_shots = [_sheet_shot(shot) for shot in shots]
    by_take = {row.take.pk: row for row in sheet_shots if row.take}
    pairs = (
        ContinuityPair.objects.filter(
            brief=brief, first__in=list(by_take), second__in=list(by_take)
        )
        .prefetch_related("characters")
        .order_by("-drift", "pk")
    )
    limits = continuity_limits()
    sheet_pairs = [
        SheetPair(
            pair=pair,
            first=by_take[pair.first_id],
            second=by_take[pair.second_id],
            parts=[
                (name, value, limits[name], value is not None and value > limits[name])
                for name, value in pair_parts(pair).items()
            ],
            characters=list(pair.characters.all()),
        )
        for pair in pairs
    ]
    for row in sheet_pairs:
        row.first.compared += 1
        row.second.compared += 1
    cast = {c.pk: c for shot in shots for c in shot.characters.all()}
    references = _character_references(brief, list(cast))
    characters = [
        SheetCharacter(
            character=character,
            references=references.get(character.pk, []),
            shots=[
                (row, (row.look.reference_stray or {}).get(str(pk)) if row.look else None)
                for row in sheet_shots
                if pk in {c.pk for c in row.shot.characters.all()}
            ],
        )
        for pk, character in sorted(cast.items(), key=lambda item: item[1].name)
    ]
    return ContinuitySheet(
        brief=brief,
        shots=sheet_shots,
        characters=characters,
        pairs=sheet_pairs,
        limits=limits,
        unmeasured=sum(1 for row in sheet_shots if row.take and row.look is None),
    )


def _sheet_shot(shot: Shot) -> SheetShot:
    take = shot.current_takes[0] if shot.current_takes else None
    look = getattr(take, "look", None) if take else None
    keyframes = [
        {"index": index, "time_s": frame["time_s"]}
        for index, frame in enumerate(look.keyframes if look else [])
    ]
    reason = next(
        (f["reason"] for f in (take.checks if take else []) if f.get("name") == "continuity"), ""
    )
    return SheetShot(shot=shot, take=take, look=look, keyframes=keyframes, drift_reason=reason)


def _character_references(brief: Brief, character_ids: list[int]) -> dict[int, list]:
    """Map each character to its references among the brief's (rights-cleared) ones."""
    found: dict[int, list] = {}
    assets = brief.references.filter(characters__in=character_ids).prefetch_related("characters")
    for asset in assets.distinct().order_by("title", "pk"):
        for character in asset.characters.all():
            if character.pk in character_ids:
                found.setdefault(character.pk, []).append(asset)
    return found


def take_keyframe(*, user: Any, take_id: int, index: int) -> tuple[Any, str] | None:
    """Return (storage, name) of a take's keyframe if the user may see its brief, else None."""
    take = (
        Take.objects.filter(pk=take_id, shot__brief__in=visible_briefs(user).values("pk"))
        .select_related("look")
        .first()
    )
    look = getattr(take, "look", None) if take else None
    if look is None or not 0 <= index < len(look.keyframes):
        return None
    return take.media.storage, look.keyframes[index]["name"]
