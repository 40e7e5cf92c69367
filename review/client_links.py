"""Client review links: make, open, revoke; what clients say through them; their log and limits.

A link's token is shown once and stored only as a hash (studio.secrets_store, as for API
tokens). What a client says (ClientNote, ClientVerdict) is kept apart from directors' notes and
decisions: it never moves a take, never counts as an approval and never reaches the reliability
figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format

from briefs.models import Brief, Shot, Take
from briefs.selectors import visible_briefs
from review import signals
from review.models import ClientNote, ClientVerdict, ReviewLink, ReviewLinkEvent
from studio.ratelimit import RateDecision, rate_hit
from studio.roles import Role, has_role
from studio.secrets_store import hash_secret, new_secret

MAX_TOKEN_LENGTH = 64
MAX_VIEWER_NAME = 100
EVENTS_SHOWN = 25  # per link on the producer's list


class ClientLinkError(Exception):
    """A link operation that cannot go ahead; the message is for the person asking."""


@dataclass(frozen=True)
class Visitor:
    """Who is using a link right now, as the log records them."""

    name: str = ""
    ip_address: str | None = None
    user_agent: str = ""


# --- Who may share ------------------------------------------------------------------------------
def shareable_briefs(user: Any) -> QuerySet[Brief]:
    """Return the briefs a user may make client links for: producers theirs, directors any."""
    if not (has_role(user, Role.PRODUCER) or has_role(user, Role.CREATIVE_DIRECTOR)):
        return Brief.objects.none()
    return visible_briefs(user)


# --- Writes -------------------------------------------------------------------------------------
@transaction.atomic
def link_create(
    *,
    brief: Brief,
    user: Any,
    label: str,
    expires_at: datetime | None = None,
    password: str = "",
    shot_ids: list[int] | None = None,
    watermark: bool = True,
) -> tuple[ReviewLink, str]:
    """Create a review link and return it with its token, which is never stored."""
    if not shareable_briefs(user).filter(pk=brief.pk).exists():
        raise ClientLinkError("You cannot share this brief.")
    label = label.strip()
    if not label:
        raise ClientLinkError("Say who the link is for.")
    now = timezone.now()
    expires_at = expires_at or now + timedelta(days=settings.REVIEW_LINK_DEFAULT_DAYS)
    if expires_at <= now:
        raise ClientLinkError("The expiry must lie in the future.")
    if expires_at > now + timedelta(days=settings.REVIEW_LINK_MAX_DAYS, minutes=5):
        raise ClientLinkError(
            f"A link may live at most {settings.REVIEW_LINK_MAX_DAYS} days; make a new one later."
        )
    shots = list(Shot.objects.filter(brief=brief, pk__in=shot_ids or []))
    if shot_ids and len(shots) != len(set(shot_ids)):
        raise ClientLinkError("Choose shots of this brief.")
    token = new_secret()
    link = ReviewLink.objects.create(
        brief=brief,
        label=label[:200],
        token_hash=hash_secret(token),
        token_prefix=token[:6],
        password=make_password(password) if password else "",
        watermark=watermark,
        created_by=user,
        expires_at=expires_at,
    )
    link.shots.set(shots)
    return link, token


def link_revoke(*, link: ReviewLink, user: Any) -> ReviewLink:
    """Revoke a link at once; revoking twice keeps the first time and who did it."""
    if not shareable_briefs(user).filter(pk=link.brief_id).exists():
        raise ClientLinkError("You cannot manage this brief's links.")
    ReviewLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=user
    )
    link.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return link


def log_event(
    *, link: ReviewLink, visitor: Visitor, kind: str, detail: str = ""
) -> ReviewLinkEvent:
    """Write one line of a link's log."""
    return ReviewLinkEvent.objects.create(
        link=link,
        viewer_name=visitor.name[:MAX_VIEWER_NAME],
        kind=kind,
        detail=detail[:200],
        ip_address=visitor.ip_address,
        user_agent=visitor.user_agent[:300],
    )


def _require_viewer(link: ReviewLink, take: Take, visitor: Visitor) -> None:
    if not link.is_live_at(timezone.now()):
        raise ClientLinkError(closed_message(link) or "This review link is closed.")
    if not visitor.name.strip():
        raise ClientLinkError("Tell us your name first.")
    if not linked_takes(link).filter(pk=take.pk).exists():
        raise ClientLinkError("This take is not part of the review.")


@transaction.atomic
def client_note_add(
    *, link: ReviewLink, take: Take, visitor: Visitor, body: str, timecode_start: float
) -> ClientNote:
    """Pin a client's note to a moment of a linked take, and log it."""
    _require_viewer(link, take, visitor)
    body = body.strip()
    if not body:
        raise ClientLinkError("Write the note first.")
    duration = take.duration_s or take.shot.duration_s or 0
    if timecode_start < 0 or (duration and timecode_start > duration + 0.05):
        raise ClientLinkError("The time must lie within the clip.")
    note = ClientNote.objects.create(
        link=link,
        take=take,
        viewer_name=visitor.name.strip()[:MAX_VIEWER_NAME],
        body=body,
        timecode_start=timecode_start,
    )
    log_event(link=link, visitor=visitor, kind=ReviewLinkEvent.Kind.NOTE, detail=_about(take))
    return note


@transaction.atomic
def client_verdict_give(
    *, link: ReviewLink, take: Take, visitor: Visitor, verdict: str, comment: str = ""
) -> ClientVerdict:
    """Record a client's verdict on a linked take, log it, and announce it.

    It is the client's opinion, not a decision: the take's status and version stay as they are.
    """
    _require_viewer(link, take, visitor)
    comment = comment.strip()
    if verdict not in ClientVerdict.Verdict.values:
        raise ClientLinkError("Approve, or request changes.")
    if verdict == ClientVerdict.Verdict.CHANGES_REQUESTED and not comment:
        raise ClientLinkError("Say what should change.")
    given = ClientVerdict.objects.create(
        link=link,
        take=take,
        viewer_name=visitor.name.strip()[:MAX_VIEWER_NAME],
        verdict=verdict,
        comment=comment,
    )
    log_event(
        link=link,
        visitor=visitor,
        kind=ReviewLinkEvent.Kind.VERDICT,
        detail=f"{given.get_verdict_display()}: {_about(take)}",
    )
    # Inside the transaction, as take_decided is: receivers' side effects wait for the commit.
    signals.client_verdict_given.send(sender=ClientVerdict, verdict=given)
    return given


def _about(take: Take) -> str:
    return f"shot {take.shot.order}, take {take.number}"


# --- Rate limit ---------------------------------------------------------------------------------
def rate_limit_hit(*, link: ReviewLink, ip_address: str | None, action: str) -> RateDecision:
    """Count one request by (link, address, action) in its fixed window, and say if it fits."""
    return rate_hit(
        f"review-link:{link.pk}:{ip_address or '-'}:{action}",
        limit=settings.REVIEW_LINK_RATE_LIMITS[action],
        window_s=settings.REVIEW_LINK_RATE_WINDOW_SECONDS,
    )


# --- Reads --------------------------------------------------------------------------------------
def link_for_token(token: str) -> ReviewLink | None:
    """Return the link a token opens (live or not), or None for a token that was never made."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return (
        ReviewLink.objects.select_related("brief__ip").filter(token_hash=hash_secret(token)).first()
    )


def closed_message(link: ReviewLink) -> str:
    """Say why a link no longer opens, or return an empty string while it does."""
    if link.revoked_at is not None:
        return "This review link was revoked."
    if link.expires_at <= timezone.now():
        when = date_format(timezone.localtime(link.expires_at), "j F Y, H:i")
        return f"This review link expired on {when}."
    return ""


def password_matches(link: ReviewLink, password: str) -> bool:
    """Tell whether the password opens the link (always, for a link without one)."""
    return not link.has_password or check_password(password, link.password)


def linked_shots(link: ReviewLink) -> QuerySet[Shot]:
    """Return the shots a link shows: those chosen, or every shot of the brief."""
    shots = Shot.objects.filter(brief_id=link.brief_id)
    if link.shots.exists():
        shots = shots.filter(pk__in=link.shots.values("pk"))
    return shots.order_by("order")


def linked_takes(link: ReviewLink) -> QuerySet[Take]:
    """Return the takes a client may see through a link: the linked shots' current takes."""
    return Take.objects.filter(shot__in=linked_shots(link).values("pk"), is_current=True).exclude(
        media=""
    )


def client_shots(*, link: ReviewLink) -> list[Shot]:
    """Return the linked shots, each with `client_take`: its current take and this link's say."""
    takes = (
        linked_takes(link)
        .select_related("shot")
        .prefetch_related(
            Prefetch(
                "client_notes",
                queryset=ClientNote.objects.filter(link=link).order_by("timecode_start", "pk"),
                to_attr="link_notes",
            ),
            Prefetch(
                "client_verdicts",
                queryset=ClientVerdict.objects.filter(link=link).order_by("created_at", "pk"),
                to_attr="link_verdicts",
            ),
        )
    )
    by_shot = {take.shot_id: take for take in takes}
    shots = list(linked_shots(link))
    for shot in shots:
        shot.client_take = by_shot.get(shot.pk)
    return shots


def _count_of(rows: QuerySet) -> Coalesce:
    """Count a link's rows in a subquery, so several counts do not multiply each other's joins."""
    counted = rows.filter(link=OuterRef("pk")).order_by().values("link").annotate(n=Count("pk"))
    return Coalesce(Subquery(counted.values("n")[:1]), 0)


def brief_links(*, brief: Brief) -> QuerySet[ReviewLink]:
    """Return a brief's links, newest first, with their counts and latest log lines."""
    recent = ReviewLinkEvent.objects.order_by("-at", "-pk")[:EVENTS_SHOWN]
    return (
        ReviewLink.objects.filter(brief=brief)
        .select_related("created_by", "revoked_by")
        .annotate(
            opens=_count_of(ReviewLinkEvent.objects.filter(kind=ReviewLinkEvent.Kind.OPENED)),
            note_count=_count_of(ClientNote.objects.all()),
            verdict_count=_count_of(ClientVerdict.objects.all()),
            shot_count=Count("shots", distinct=True),
        )
        .prefetch_related(Prefetch("events", queryset=recent, to_attr="event_log"))
        .order_by("-created_at", "-pk")
    )


def client_verdicts(*, brief: Brief) -> QuerySet[ClientVerdict]:
    """Return every client verdict on a brief's takes, oldest first, with their link."""
    return (
        ClientVerdict.objects.filter(take__shot__brief=brief)
        .select_related("link", "take__shot")
        .order_by("created_at", "pk")
    )
