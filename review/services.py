"""Writes for the review board: decisions, notes, re-prompts, current take, promotion.

Status fields on briefs, shots and takes move only through briefs.pipeline; these services
record who decided what and why, then ask the pipeline to make the move.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from briefs import pipeline
from briefs.models import Shot, Take
from retrieval.models import Asset
from retrieval.services import AssetRejected, IngestResult, asset_ingest
from review import selectors, signals, signoff
from review.models import CutRender, Decision, Note, Playlist, PlaylistItem
from studio.ai import media, providers
from studio.ai.local import LocalReviser
from studio.ai.types import NoteSpec, ProviderError, Revision, RevisionRequest
from studio.celery import send_after_commit
from studio.roles import Role, has_role
from teams.selectors import has_ip_role, member_ids, require_ip_role


class ReviewError(Exception):
    """A review action the take's current state does not allow."""


class DecisionConflict(ReviewError):
    """Another decision reached the take first; the attempted one is kept, unapplied."""

    def __init__(self, *, take: Take, attempted: Decision, winner: Decision | None) -> None:
        self.take = take
        self.attempted = attempted
        self.winner = winner
        super().__init__(self.message)

    @property
    def message(self) -> str:
        yours = "approval" if self.attempted.verdict == Decision.Verdict.APPROVED else "rejection"
        if self.winner is None:
            return (
                f"Take {self.take.number} changed to “{self.take.get_status_display()}” while "
                f"you were looking at it. Your {yours} was not applied."
            )
        who = self.winner.user.get_full_name() or self.winner.user.get_username()
        did = self.winner.get_verdict_display().lower()
        if self.winner.reason:
            did += f" ({self.winner.get_reason_display()})"
        when = self.winner.created_at.strftime("%H:%M:%S UTC on %d %b")
        return (
            f"{who} {did} take {self.take.number} at {when}, before your decision arrived. "
            f"Your {yours} was not applied."
        )


@dataclass
class BulkOutcome:
    """What a bulk decision did: the decisions applied and the takes another decision beat."""

    applied: list[Decision] = field(default_factory=list)
    conflicts: list[DecisionConflict] = field(default_factory=list)


def _require(user, ip_id: int, *roles: Role) -> None:
    """Raise PermissionDenied unless the user holds one of `roles` on that IP's team."""
    require_ip_role(user, ip_id, *roles)


def _verdict_reason(verdict: str, reason_code: str, reason_text: str) -> str:
    if verdict == Decision.Verdict.APPROVED:
        return reason_text.strip()
    label = Decision.Reason(reason_code).label
    return f"{label}: {reason_text.strip()}" if reason_text.strip() else label


def _validated_decision(
    *, take: Take, verdict: str, reason_code: str, checklist: Mapping[str, bool] | None
) -> dict[str, bool]:
    if verdict not in Decision.Verdict.values:
        raise ReviewError(f"Unknown verdict {verdict!r}.")
    if verdict == Decision.Verdict.REJECTED and reason_code not in Decision.Reason.values:
        raise ReviewError("Choose a reason for the rejection.")
    criteria = list(take.shot.brief.checklist or [])
    ticked = dict(checklist or {})
    return {criterion: bool(ticked.get(criterion)) for criterion in criteria}


def decide(
    *,
    take: Take,
    user,
    verdict: str,
    expected_version: int,
    reason_code: str = "",
    reason_text: str = "",
    checklist: Mapping[str, bool] | None = None,
    playlist: Playlist | None = None,
) -> Decision:
    """Record a director's verdict on the take version they saw and move the take with it.

    Raises DecisionConflict (after keeping the attempt as an unapplied decision) when another
    decision or the pipeline changed the take first.
    """
    _require(user, take.shot.brief.ip_id, Role.CREATIVE_DIRECTOR)
    ticks = _validated_decision(
        take=take, verdict=verdict, reason_code=reason_code, checklist=checklist
    )
    fields = {
        "take": take,
        "user": user,
        "verdict": verdict,
        "reason": reason_code if verdict == Decision.Verdict.REJECTED else "",
        "reason_text": reason_text.strip(),
        "checklist": ticks,
        "take_version": expected_version,
        "playlist": playlist,
    }
    try:
        with transaction.atomic():
            decision = _apply_under_signoff(take=take, user=user, fields=fields)
            if decision.is_final:
                pipeline.record_take_verdict(
                    take_id=take.pk,
                    expected_version=expected_version,
                    verdict=verdict,
                    reason=_verdict_reason(verdict, reason_code, reason_text),
                )
                signals.take_decided.send(sender=Decision, decision=decision)
            elif decision.effect == Decision.Effect.DISPUTED:
                reason = signoff.dispute_reason(take_signoff(take=take))
                pipeline.route_take_to_lead(
                    take_id=take.pk, expected_version=expected_version, reason=reason
                )
                transaction.on_commit(lambda: tell_lead_directors(take=take, reason=reason))
    except pipeline.StaleTakeError as stale:
        attempted = Decision.objects.create(**fields, applied=False)
        winner = (
            Decision.objects.filter(take=take, applied=True)
            .select_related("user")
            .order_by("-created_at", "-pk")
            .first()
        )
        raise DecisionConflict(
            take=getattr(stale, "take", None) or Take.objects.get(pk=take.pk),
            attempted=attempted,
            winner=winner,
        ) from stale
    except pipeline.PipelineError as refused:
        raise ReviewError(str(refused)) from refused
    return decision


def take_signoff(*, take: Take) -> signoff.SignOff:
    """Return where the take's sign-off stands under its brief's rule."""
    decisions = Decision.objects.filter(take=take).select_related("user")
    return signoff.sign_off(decisions, needed=take.shot.brief.approvals_needed)


def _apply_under_signoff(*, take: Take, user, fields: dict) -> Decision:
    """Lock the take, check the version seen, and save the decision with what it does.

    The lock makes concurrent approvals count one after the other, so the N-th is seen as such.
    """
    locked = Take.objects.select_for_update().get(pk=take.pk)
    if locked.version != fields["take_version"]:
        raise pipeline.StaleTakeError(locked)
    if locked.status not in pipeline.TAKE_REVIEWABLE:
        raise ReviewError(
            f"Take {locked.number} is {locked.get_status_display().lower()}; "
            "it can be reviewed once it is ready."
        )
    effect = signoff.effect_of(
        Decision(**fields),
        before=take_signoff(take=take),
        is_lead=user.has_perm("review.lead_director"),
    )
    return Decision.objects.create(**fields, effect=effect)


def tell_lead_directors(*, take: Take, reason: str) -> int:
    """Email the lead directors who direct the take's IP that it waits for their ruling.

    Return how many were told. Leads on other IPs' teams hear nothing of this brief.
    """
    ip_id = take.shot.brief.ip_id
    leads = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(user_permissions__codename="lead_director")
            | Q(groups__permissions__codename="lead_director")
        )
        .filter(Q(pk__in=member_ids(ip_id, Role.CREATIVE_DIRECTOR)) | Q(is_superuser=True))
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    recipients = sorted(leads)
    if not recipients:
        return 0
    board = reverse("review:board", args=[take.shot.brief_id]) + f"#shot-{take.shot_id}"
    subject = f"[Studio] Directors disagree on shot {take.shot.order} of “{take.shot.brief}”"
    send_mail(subject, f"{reason}\n\nTake {take.number}: {board}", None, recipients)
    return len(recipients)


def bulk_decide(
    *,
    takes_with_versions: Sequence[tuple[Take, int]],
    user,
    verdict: str,
    reason_code: str = "",
    reason_text: str = "",
) -> BulkOutcome:
    """Apply one verdict (and one reason) to many takes, each checked against its own version."""
    for ip_id in {take.shot.brief.ip_id for take, _ in takes_with_versions}:
        _require(user, ip_id, Role.CREATIVE_DIRECTOR)
    if not takes_with_versions:
        raise ReviewError("Select at least one take.")
    outcome = BulkOutcome()
    for take, version in takes_with_versions:
        try:
            outcome.applied.append(
                decide(
                    take=take,
                    user=user,
                    verdict=verdict,
                    expected_version=version,
                    reason_code=reason_code,
                    reason_text=reason_text,
                )
            )
        except DecisionConflict as conflict:
            outcome.conflicts.append(conflict)
    return outcome


def _normalised_rect(rect: Mapping[str, float] | None) -> dict[str, float] | None:
    if not rect:
        return None
    try:
        box = {key: round(float(rect[key]), 4) for key in ("x", "y", "w", "h")}
    except (KeyError, TypeError, ValueError) as exc:
        raise ReviewError("A frame region needs x, y, w and h.") from exc
    inside = all(0 <= box[k] <= 1 for k in box) and box["x"] + box["w"] <= 1.0001
    if not inside or box["y"] + box["h"] > 1.0001 or box["w"] <= 0 or box["h"] <= 0:
        raise ReviewError("The frame region must lie inside the frame.")
    return box


@transaction.atomic
def add_note(
    *,
    take: Take,
    user,
    body: str,
    timecode_start: float,
    timecode_end: float | None = None,
    rect: Mapping[str, float] | None = None,
    about_sound: bool = False,
) -> Note:
    """Pin a note to a moment or range of a take, optionally to a region of the frame.

    A note `about_sound` concerns what is heard; re-prompting answers it in the audio line.
    """
    _require(user, take.shot.brief.ip_id, Role.CREATIVE_DIRECTOR, Role.PRODUCER)
    if not body.strip():
        raise ReviewError("Write the note.")
    limit = take.duration_s or take.shot.duration_s
    if timecode_start < 0 or (limit and timecode_start > limit + 0.05):
        raise ReviewError(f"The timecode must lie within the take (0 to {limit:.2f} s).")
    if timecode_end is not None and not timecode_start <= timecode_end <= (limit or 1e9) + 0.05:
        raise ReviewError("A range must end after it starts and within the take.")
    return Note.objects.create(
        take=take,
        user=user,
        body=body.strip(),
        timecode_start=round(timecode_start, 3),
        timecode_end=None if timecode_end is None else round(timecode_end, 3),
        rect=_normalised_rect(rect),
        about_sound=about_sound,
    )


def propose_reprompt(*, take: Take) -> Revision:
    """Propose the next take's prompt from this take's notes, with the notes it answers."""
    request = RevisionRequest(
        prompt=take.prompt,
        negative_prompt=take.negative_prompt,
        audio=take.audio,
        notes=tuple(
            NoteSpec(
                note_id=note.pk,
                body=note.body,
                start_s=note.timecode_start,
                end_s=note.timecode_end,
                region=tuple(note.rect[k] for k in ("x", "y", "w", "h")) if note.rect else None,
                about_sound=note.about_sound,
            )
            for note in take.notes.order_by("timecode_start", "pk")
        ),
    )
    try:
        return providers.get_reviser().revise(request)
    except ProviderError:
        # The page must still open when the model fails: the offline rules propose instead.
        return LocalReviser().revise(request)


def reprompt(
    *,
    take: Take,
    user,
    prompt: str,
    negative_prompt: str,
    reference_ids: Iterable[int],
    answered_note_ids: Iterable[int] = (),
    audio: str | None = None,
) -> Take:
    """Start a new take of the shot from an edited prompt; it records the notes it answers.

    `audio` is the new take's audio line (None keeps the shot's).
    """
    _require(user, take.shot.brief.ip_id, Role.CREATIVE_DIRECTOR)
    if not prompt.strip():
        raise ReviewError("The prompt cannot be empty.")
    try:
        with transaction.atomic():
            new_take = pipeline.start_new_take(
                shot_id=take.shot_id,
                prompt=prompt.strip(),
                negative_prompt=negative_prompt.strip(),
                reference_ids=list(reference_ids),
                user=user,
                parent_take_id=take.pk,
                audio=None if audio is None else audio.strip(),
            )
            Note.objects.filter(take=take, pk__in=list(answered_note_ids)).update(
                answered_by_take=new_take
            )
    except pipeline.PipelineError as refused:
        raise ReviewError(str(refused)) from refused
    return new_take


def upload_take(*, shot: Shot, user, upload: UploadedFile) -> Take:
    """Add a clip made elsewhere (another generator, an editor) as the shot's next take."""
    _require(user, shot.brief.ip_id, Role.CREATIVE_DIRECTOR, Role.PRODUCER)
    limit = settings.REVIEW_MAX_TAKE_UPLOAD_BYTES
    # Checked before reading: a huge file is refused without holding it in memory.
    if upload.size > limit:
        raise ReviewError(
            f"“{upload.name}” is {upload.size / 1e6:.0f} MB; a take may be at most "
            f"{limit / 1e6:.0f} MB."
        )
    video = upload.read()
    try:
        media.inspect_upload(video)
        return pipeline.add_uploaded_take(
            shot_id=shot.pk, user=user, video=video, file_name=upload.name or "upload.mp4"
        )
    except media.MediaError as bad:
        raise ReviewError(f"“{upload.name}” cannot be used as a take: {bad}.") from bad
    except pipeline.PipelineError as refused:
        raise ReviewError(str(refused)) from refused


def make_current(*, take: Take, user) -> Take:
    """Make an earlier take the shot's current one again."""
    _require(user, take.shot.brief.ip_id, Role.CREATIVE_DIRECTOR)
    try:
        return pipeline.set_current_take(take_id=take.pk)
    except pipeline.PipelineError as refused:
        raise ReviewError(str(refused)) from refused


def derive_rights(references: Sequence[Asset]) -> dict:
    """Intersect the references' rights (territories, dates, reference use) as Rights fields."""
    worldwide, territories = True, None
    starts, ends, reference_use = [], [], True
    for ref in references:
        rights = getattr(ref, "rights", None)
        if rights is None:
            raise ReviewError(f"Reference “{ref.title}” has no rights on record.")
        if not rights.worldwide:
            worldwide = False
            mine = set(rights.territories)
            territories = mine if territories is None else territories & mine
        starts += [rights.valid_from] if rights.valid_from else []
        ends += [rights.valid_until] if rights.valid_until else []
        reference_use = reference_use and rights.reference_use_allowed
    if not worldwide and not territories:
        raise ReviewError("The references share no territory, so the clip has no usable rights.")
    valid_from, valid_until = max(starts, default=None), min(ends, default=None)
    if valid_from and valid_until and valid_until < valid_from:
        raise ReviewError("The references' licence periods do not overlap.")
    titles = ", ".join(ref.title for ref in references) or "no references"
    return {
        "holder": "Studio (generated)",
        "licence": "Derived from references",
        "worldwide": worldwide,
        "territories": sorted(territories or ()),
        "valid_from": valid_from,
        "valid_until": valid_until,
        "reference_use_allowed": reference_use,
        "notes": f"Intersection of the rights of: {titles}.",
    }


# Promotion writes a catalog asset with rights, and catalog writes are catalog admins' work.
PROMOTE_ROLE = Role.CATALOG_ADMIN


def may_promote(user, ip_id: int) -> bool:
    """Tell whether a user may put takes into the IP's catalog (its catalog admins)."""
    return has_ip_role(user, ip_id, PROMOTE_ROLE)


def promote_take(*, take: Take, user) -> IngestResult:
    """Add an approved take to the catalog as a clip asset with its provenance and rights.

    Promoting a later take of the same shot makes it the next version of the earlier asset.
    """
    _require(user, take.shot.brief.ip_id, PROMOTE_ROLE)
    if take.status != Take.Status.APPROVED:
        raise ReviewError("Only an approved take can go into the catalog.")
    if not take.media:
        raise ReviewError("This take has no media to promote.")
    shot, brief = take.shot, take.shot.brief
    references = list(take.references.select_related("rights").prefetch_related("characters"))
    rights = derive_rights(references)
    with take.media.open("rb") as media_file:
        data = media_file.read()
    earlier = (
        Asset.objects.filter(
            ip=brief.ip,
            source=Asset.Source.GENERATED,
            provenance__shot_id=shot.pk,
            is_current=True,
        )
        .order_by("-version")
        .first()
    )
    try:
        return asset_ingest(
            ip=brief.ip,
            kind=Asset.Kind.CLIP,
            title=f"{brief.title} · shot {shot.order}",
            file_name=f"brief{brief.pk}-shot{shot.order:02d}-take{take.number}.mp4",
            data=data,
            description=take.prompt,
            tags=["generated", f"brief-{brief.pk}"],
            characters=sorted({c.pk for ref in references for c in ref.characters.all()}),
            rights=rights,
            created_by=user,
            source=Asset.Source.GENERATED,
            provenance={
                "brief_id": brief.pk,
                "brief_title": brief.title,
                "shot_id": shot.pk,
                "shot_order": shot.order,
                "take_id": take.pk,
                "take_number": take.number,
                "model": take.model,
                "seed": take.seed,
                "references": [
                    {"asset_id": ref.pk, "title": ref.title, "version": ref.version}
                    for ref in references
                ],
                "promoted_by": user.get_username(),
            },
            replaces=earlier,
        )
    except AssetRejected as rejected:
        raise ReviewError(f"The catalog refused the clip: {rejected.reason}") from rejected


# Registered by review/tasks.py under this name; services enqueue by name, never by import.
RENDER_CUT_TASK = "review.render_cut"
# A render reports progress after every clip; one silent this long lost its worker.
CUT_RENDER_STALE = timedelta(minutes=10)


@transaction.atomic
def request_cut(*, brief, user) -> CutRender:
    """Ask a worker to render the brief's approved takes as one MP4, unless it already has.

    A render is kept per set of approved takes at their versions: asking again while nothing
    changed returns it; a failed one, or one whose worker went silent, is queued again.
    """
    _require(user, brief.ip_id, Role.CREATIVE_DIRECTOR, Role.PRODUCER)
    takes = selectors.approved_cut_takes(brief=brief)
    if not takes:
        raise ReviewError("Nothing to play yet: no shot of this brief has an approved take.")
    cut, created = CutRender.objects.get_or_create(
        brief=brief,
        key=selectors.cut_key(takes),
        defaults={"takes": [list(pair) for pair in takes], "requested_by": user},
    )
    now = timezone.now()
    again = Q(status=CutRender.Status.FAILED) | Q(
        status=CutRender.Status.RENDERING, updated_at__lt=now - CUT_RENDER_STALE
    )
    retried = (
        not created
        and CutRender.objects.filter(again, pk=cut.pk).update(
            status=CutRender.Status.QUEUED, progress=0, error="", requested_by=user, updated_at=now
        )
        == 1
    )
    if created or retried:
        send_after_commit(RENDER_CUT_TASK, cut.pk)
        cut.refresh_from_db()
    return cut


@transaction.atomic
def playlist_create(*, user, name: str, shot_ids: Sequence[int]) -> Playlist:
    """Gather shots (from any briefs) into a named dailies playlist, in the order given."""
    if not has_role(user, Role.CREATIVE_DIRECTOR):
        raise PermissionDenied("Only Creative Directors may make playlists.")
    if not name.strip():
        raise ReviewError("Name the playlist.")
    ordered = list(dict.fromkeys(shot_ids))
    found = dict(Shot.objects.filter(pk__in=ordered).values_list("pk", "brief__ip_id"))
    if not ordered or len(found) != len(ordered):
        raise ReviewError("Pick at least one shot that still exists.")
    for ip_id in set(found.values()):
        _require(user, ip_id, Role.CREATIVE_DIRECTOR)
    playlist = Playlist.objects.create(name=name.strip(), created_by=user)
    PlaylistItem.objects.bulk_create(
        PlaylistItem(playlist=playlist, shot_id=shot_id, position=position)
        for position, shot_id in enumerate(ordered, start=1)
    )
    return playlist
