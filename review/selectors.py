"""Reads for the review pages: each returns one queryset with everything its page renders."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Greatest

from briefs.models import Brief, Shot, Take
from briefs.selectors import visible_briefs
from retrieval.models import Asset
from review.models import (
    ClientNote,
    ClientVerdict,
    CutRender,
    Decision,
    Note,
    Playlist,
    PlaylistItem,
)
from studio.roles import Role
from teams.selectors import ip_ids_for

QUEUE_STATUSES = (Take.Status.ROUTED, Take.Status.READY)
# What a compact board card reads from the current take; the rest loads when it opens.
COMPACT_TAKE_FIELDS = (
    "pk",
    "shot_id",
    "number",
    "status",
    "status_reason",
    "prompt",
    "poster",
    "checks_passed",
    "cost",
    "billed_generations",
    "start_pending",
    "version",
    "is_current",
)


@dataclass(frozen=True)
class QueueFilters:
    """What the "needs me" queue is narrowed to; empty values mean "any"."""

    ip: str = ""
    brief: int | None = None
    status: str = ""
    reason: str = ""


# The take after a note's own, to say whether a note was addressed there.
_next_take_number = (
    Take.objects.filter(shot=OuterRef("take__shot"), number__gt=OuterRef("take__number"))
    .order_by("number")
    .values("number")[:1]
)


def _takes_for_cards() -> QuerySet[Take]:
    """Takes with their references (and rights), decision trail and notes, prefetched."""
    return (
        Take.objects.select_related("created_by", "parent")
        .prefetch_related(
            Prefetch(
                "references",
                queryset=Asset.objects.select_related("rights")
                .defer("search_document", "caption", "description")
                .order_by("title", "pk"),
                to_attr="reference_list",
            ),
            Prefetch(
                "decisions",
                queryset=Decision.objects.select_related("user").order_by("created_at", "pk"),
                to_attr="decision_trail",
            ),
            Prefetch(
                "notes",
                queryset=Note.objects.select_related("user")
                .annotate(
                    answered_in=F("answered_by_take__number"),
                    next_take_number=Subquery(_next_take_number),
                )
                .order_by("timecode_start", "pk"),
                to_attr="timeline_notes",
            ),
            # What clients said through review links: shown as theirs, never as decisions.
            Prefetch(
                "client_verdicts",
                queryset=ClientVerdict.objects.select_related("link").order_by("created_at", "pk"),
                to_attr="client_verdict_trail",
            ),
            Prefetch(
                "client_notes",
                queryset=ClientNote.objects.select_related("link").order_by("timecode_start", "pk"),
                to_attr="client_timeline_notes",
            ),
        )
        .order_by("number")
    )


def board_shots(*, brief: Brief) -> QuerySet[Shot]:
    """Return the brief's shots in order with what a compact board card shows.

    Each shot carries `current_takes` (its current take, with its note count and the latest
    decision's verdict, author and time annotated) and `take_count`; the heavy parts of a card
    (player, references, checks, trail) come from board_shots_in_full when the card is opened.
    """
    latest = Decision.objects.filter(take=OuterRef("pk"), applied=True).order_by("-created_at")
    client = ClientVerdict.objects.filter(take=OuterRef("pk")).order_by("-created_at", "-pk")
    client_notes = (
        ClientNote.objects.filter(take=OuterRef("pk"))
        .order_by()
        .values("take")
        .annotate(count=Count("pk"))
        .values("count")
    )
    current = (
        Take.objects.filter(is_current=True)
        .only(*COMPACT_TAKE_FIELDS)
        .annotate(
            note_count=Count("notes", distinct=True),
            last_verdict=Subquery(latest.values("verdict")[:1]),
            last_decided_at=Subquery(latest.values("created_at")[:1]),
            last_decided_by=Subquery(latest.values("user__first_name")[:1]),
            last_decided_username=Subquery(latest.values("user__username")[:1]),
            client_verdict=Subquery(client.values("verdict")[:1]),
            client_verdict_by=Subquery(client.values("viewer_name")[:1]),
            client_note_count=Subquery(client_notes[:1]),
        )
    )
    return (
        Shot.objects.filter(brief=brief)
        .only("pk", "brief_id", "order", "camera", "duration_s")
        .annotate(take_count=Count("takes", distinct=True))
        .prefetch_related(Prefetch("takes", queryset=current, to_attr="current_takes"))
        .order_by("order")
    )


def board_shots_in_full(*, brief: Brief) -> QuerySet[Shot]:
    """Return the brief's shots with every take's references, rights, notes and decisions."""
    return (
        Shot.objects.filter(brief=brief)
        .select_related("brief__ip")
        .prefetch_related(Prefetch("takes", queryset=_takes_for_cards(), to_attr="take_history"))
        .order_by("order")
    )


def board_shot(*, shot_id: int) -> Shot:
    """Return one shot prepared in full, as an opened card shows it."""
    return (
        Shot.objects.select_related("brief__ip")
        .prefetch_related(Prefetch("takes", queryset=_takes_for_cards(), to_attr="take_history"))
        .get(pk=shot_id)
    )


def _latest(queryset: QuerySet, field: str) -> Subquery:
    return Subquery(queryset.order_by().annotate(latest=Max(field)).values("latest")[:1])


def board_version(*, brief_id: int) -> str:
    """Return a token that changes whenever anything the board shows changes (one query)."""
    in_brief = OuterRef("pk")
    latest = (
        Brief.objects.filter(pk=brief_id)
        .annotate(
            version=Greatest(
                "updated_at",
                _latest(Shot.objects.filter(brief=in_brief).values("brief"), "updated_at"),
                _latest(
                    Take.objects.filter(shot__brief=in_brief).values("shot__brief"), "updated_at"
                ),
                _latest(
                    Note.objects.filter(take__shot__brief=in_brief).values("take__shot__brief"),
                    "created_at",
                ),
                _latest(
                    Decision.objects.filter(take__shot__brief=in_brief).values("take__shot__brief"),
                    "created_at",
                ),
                _latest(
                    ClientNote.objects.filter(take__shot__brief=in_brief).values(
                        "take__shot__brief"
                    ),
                    "created_at",
                ),
                _latest(
                    ClientVerdict.objects.filter(take__shot__brief=in_brief).values(
                        "take__shot__brief"
                    ),
                    "created_at",
                ),
            )
        )
        .values_list("version", flat=True)
        .first()
    )
    return str(int(latest.timestamp() * 1_000_000)) if latest else "0"


def version_time(token: str) -> datetime | None:
    """Turn a board_version token back into the moment it names (None when malformed)."""
    try:
        return datetime.fromtimestamp(int(token) / 1_000_000, tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def shots_changed_since(*, brief: Brief, since: datetime) -> QuerySet[Shot]:
    """Return the board shots touched at or after `since` (their take, notes or decisions)."""
    touched = Shot.objects.filter(
        Q(updated_at__gte=since)
        | Q(takes__updated_at__gte=since)
        | Q(takes__notes__created_at__gte=since)
        | Q(takes__decisions__created_at__gte=since)
        # Exists rather than two more joins, which would multiply the rows the others already join.
        | Q(Exists(ClientNote.objects.filter(take__shot=OuterRef("pk"), created_at__gte=since)))
        | Q(Exists(ClientVerdict.objects.filter(take__shot=OuterRef("pk"), created_at__gte=since))),
        brief=brief,
    ).values("pk")
    return board_shots_in_full(brief=brief).filter(pk__in=touched)


def review_queue(*, user, filters: QueueFilters) -> QuerySet[Take]:
    """Return current takes waiting for a director, routed ones first, then oldest ready first,
    of the briefs the user may see.
    """
    seen_by_user = Decision.objects.filter(
        take=OuterRef("pk"), user=user, take_version=OuterRef("version")
    )
    takes = (
        _visible_takes(user)
        .filter(is_current=True, status__in=QUEUE_STATUSES)
        .exclude(Exists(seen_by_user))
        .select_related("shot__brief__ip")
        .annotate(
            routed_first=Case(
                When(status=Take.Status.ROUTED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("routed_first", "created_at", "pk")
    )
    if filters.ip:
        takes = takes.filter(shot__brief__ip__slug=filters.ip)
    if filters.brief:
        takes = takes.filter(shot__brief_id=filters.brief)
    if filters.status:
        takes = takes.filter(status=filters.status)
    if filters.reason:
        takes = takes.filter(checks__contains=[{"name": filters.reason, "passed": False}])
    return takes


def _visible_takes(user) -> QuerySet[Take]:
    """Takes of the briefs the user may see (briefs.selectors.visible_briefs decides)."""
    return Take.objects.filter(shot__brief__in=visible_briefs(user).values("pk"))


def queue_briefs(*, user) -> QuerySet[Brief]:
    """Return the briefs (on IPs the user directs) with a take waiting, for the queue filter."""
    waiting = _visible_takes(user).filter(is_current=True, status__in=QUEUE_STATUSES)
    return Brief.objects.filter(pk__in=waiting.values("shot__brief_id")).order_by("title")


def queue_check_names(*, user) -> list[str]:
    """Return the names of the automated checks that have failed on a take waiting for the user."""
    names: set[str] = set()
    rows = _visible_takes(user).filter(
        is_current=True, status__in=QUEUE_STATUSES, checks_passed=False
    )
    for checks in rows.values_list("checks", flat=True)[:500]:
        names.update(c.get("name", "") for c in checks or () if not c.get("passed", True))
    return sorted(name for name in names if name)


def compare_takes(*, take_ids: tuple[int, int]) -> list[Take]:
    """Return the two takes, in the order asked, with what a side-by-side view shows."""
    takes = {
        t.pk: t for t in _takes_for_cards().select_related("shot__brief").filter(pk__in=take_ids)
    }
    return [takes[pk] for pk in take_ids if pk in takes]


def approved_takes(*, brief: Brief) -> QuerySet[Take]:
    """Return each shot's approved take, in shot order (the current one if several are)."""
    return (
        _takes_for_cards()
        .filter(shot__brief=brief, status=Take.Status.APPROVED)
        .select_related("shot")
        .order_by("shot__order", "shot_id", "-is_current", "-number")
        .distinct("shot__order", "shot_id")
    )


def _current_takes_with_notes() -> Prefetch:
    current = (
        Take.objects.filter(is_current=True)
        .only(
            "pk",
            "shot_id",
            "number",
            "status",
            "status_reason",
            "media",
            "poster",
            "duration_s",
            "checks",
            "version",
            "is_current",
        )
        .prefetch_related(
            Prefetch(
                "notes",
                queryset=Note.objects.select_related("user").order_by("timecode_start", "pk"),
                to_attr="timeline_notes",
            )
        )
    )
    return Prefetch("takes", queryset=current, to_attr="current_takes")


def sequence_shots(*, brief: Brief) -> QuerySet[Shot]:
    """Return the brief's shots in order, each with its current take, notes and their authors.

    Each shot carries `current_takes` (zero or one take) whose notes are in `timeline_notes`;
    the failed QC findings come with the take's `checks`.
    """
    return (
        Shot.objects.filter(brief=brief)
        .only("pk", "brief_id", "order", "camera", "duration_s")
        .prefetch_related(_current_takes_with_notes())
        .order_by("order")
    )


def playlist_shots(*, playlist: Playlist) -> list[Shot]:
    """Return the playlist's shots in its order, prepared as sequence_shots prepares them."""
    items = (
        PlaylistItem.objects.filter(playlist=playlist)
        .select_related("shot__brief")
        .prefetch_related(
            Prefetch(
                "shot__takes",
                queryset=_current_takes_with_notes().queryset,
                to_attr="current_takes",
            )
        )
        .order_by("position")
    )
    return [item.shot for item in items]


def playlist_decisions(*, playlist: Playlist) -> QuerySet[Decision]:
    """Return the decisions made in a dailies session, oldest first, with who and which shot."""
    return (
        Decision.objects.filter(playlist=playlist)
        .select_related("user", "take__shot__brief")
        .order_by("created_at", "pk")
    )


def visible_playlists(*, user) -> QuerySet[Playlist]:
    """Return dailies playlists, newest first, whose every shot is on an IP the user directs."""
    foreign = PlaylistItem.objects.filter(playlist=OuterRef("pk")).exclude(
        shot__brief__ip__in=ip_ids_for(user, Role.CREATIVE_DIRECTOR)
    )
    return (
        Playlist.objects.exclude(Exists(foreign))
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )


def dailies_candidates(*, user, since: datetime) -> QuerySet[Take]:
    """Return current takes waiting for the user's review that changed since `since`."""
    return (
        _visible_takes(user)
        .filter(is_current=True, status__in=QUEUE_STATUSES, updated_at__gte=since)
        .select_related("shot__brief__ip")
        .order_by("shot__brief__title", "shot__brief_id", "shot__order")
    )


@dataclass(frozen=True)
class SequenceMarker:
    """A note or a failed QC finding, placed on the sequence's own clock."""

    kind: str  # "note" or "qc"
    at_s: float
    until_s: float | None
    offset_s: float  # seconds into the take, where the player seeks to
    text: str


@dataclass(frozen=True)
class SequenceClip:
    """One shot of the sequence: its current take and where it sits on the sequence's clock."""

    shot: Shot
    take: Take | None
    start_s: float
    duration_s: float
    markers: list[SequenceMarker]

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    @property
    def playable(self) -> bool:
        return self.take is not None and bool(self.take.media)


def _markers(take: Take, start_s: float) -> list[SequenceMarker]:
    markers = [
        SequenceMarker(
            kind="note",
            at_s=start_s + note.timecode_start,
            until_s=None if note.timecode_end is None else start_s + note.timecode_end,
            offset_s=note.timecode_start,
            text=f"{note.user.get_full_name() or note.user.get_username()}: {note.body}",
        )
        for note in take.timeline_notes
    ]
    for finding in take.checks or ():
        if finding.get("passed", True) or finding.get("start_s") is None:
            continue
        begin, end = float(finding["start_s"]), float(finding.get("end_s") or finding["start_s"])
        markers.append(
            SequenceMarker(
                kind="qc",
                at_s=start_s + begin,
                until_s=start_s + end if end > begin else None,
                offset_s=begin,
                text=f"Automatic check {finding.get('name', '')}: {finding.get('reason', '')}",
            )
        )
    return sorted(markers, key=lambda marker: marker.at_s)


def sequence_clips(shots: Iterable[Shot]) -> list[SequenceClip]:
    """Lay shots (from sequence_shots or playlist_shots) end to end as clips.

    A shot without a playable take is listed but takes no time.
    """
    clips, clock = [], 0.0
    for shot in shots:
        take = shot.current_takes[0] if shot.current_takes else None
        duration = float(take.duration_s or shot.duration_s) if take and take.media else 0.0
        markers = _markers(take, clock) if duration else []
        clips.append(SequenceClip(shot, take, clock, duration, markers))
        clock += duration
    return clips


def approved_cut_takes(*, brief: Brief) -> list[tuple[int, int]]:
    """Return (take id, version) of each shot's approved take with media, in shot order."""
    rows = (
        Take.objects.filter(shot__brief=brief, status=Take.Status.APPROVED)
        .exclude(media="")
        .order_by("shot__order", "shot_id", "-is_current", "-number")
        .distinct("shot__order", "shot_id")
        .values_list("pk", "version")
    )
    return [(pk, version) for pk, version in rows]


def cut_key(takes: list[tuple[int, int]]) -> str:
    """Name a set of takes at their versions; any change to one names a different cut."""
    return hashlib.sha256(";".join(f"{pk}:{v}" for pk, v in takes).encode()).hexdigest()


def current_cut(*, brief: Brief) -> CutRender | None:
    """Return the render of the brief's approved takes as they are now, if one was asked for."""
    takes = approved_cut_takes(brief=brief)
    if not takes:
        return None
    return CutRender.objects.filter(brief=brief, key=cut_key(takes)).first()
