"""Continuity across a brief's shots: measure each current take once, score pairs, route drift.

Runs after takes are ready (the check step enqueues it) and is idempotent: a take's look is
measured once (TakeLook), a pair is scored once (ContinuityPair), and a take carries at most
one continuity finding. A take whose shot drifts from most of the brief's other shots, beyond
a calibrated limit, goes to the human queue with its reasons (never silently onward).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from briefs.models import ContinuityPair, Shot, Take, TakeLook
from briefs.pipeline.handoffs import Clock, log_handoff
from briefs.pipeline.planning import references_for
from briefs.pipeline.states import Outcome, Step
from briefs.pipeline.takes import set_shot_status
from briefs.qc import continuity
from briefs.qc.continuity import Look
from studio.ai import media

# Current takes worth comparing: those a director sees (a rejected take is already answered).
COMPARED_STATUSES = (Take.Status.READY, Take.Status.ROUTED, Take.Status.APPROVED)
# Takes the check may still send to a human; decided takes only show the finding on the sheet.
ROUTABLE_STATUSES = (Take.Status.READY, Take.Status.ROUTED)
FINDING = "continuity"


@dataclass(frozen=True)
class ContinuityRun:
    """What one run did: takes measured, pairs scored, takes routed."""

    measured: int
    scored: int
    routed: tuple[int, ...]


def check_continuity(brief_id: int, *, owner: str = "continuity") -> ContinuityRun:
    """Measure the brief's current takes, score each new pair, and route drifting takes."""
    takes = list(
        Take.objects.filter(shot__brief_id=brief_id, is_current=True, status__in=COMPARED_STATUSES)
        .exclude(media="")
        .select_related("shot")
        .prefetch_related("shot__characters", "references__characters")
        .order_by("pk")
    )
    measured = sum(1 for take in takes if measure_take(take))
    looks = {look.take_id: look for look in TakeLook.objects.filter(take__in=takes)}
    takes = [take for take in takes if take.pk in looks]
    scored = _score_new_pairs(brief_id, takes, looks)
    routed = tuple(
        take.pk for take in takes if take.status in ROUTABLE_STATUSES and _route(take, takes, owner)
    )
    return ContinuityRun(measured=measured, scored=scored, routed=routed)


def measure_take(take: Take) -> bool:
    """Sample and store the take's keyframes and measure its look; False when already done."""
    if TakeLook.objects.filter(take=take).exists():
        return False
    started = time.perf_counter()
    try:
        with take.media.open("rb") as handle:
            video = handle.read()
        keyframes = continuity.sample_keyframes(video, count=settings.CONTINUITY_KEYFRAMES)
    except (OSError, media.MediaError):
        # An unreadable clip already failed its checks; continuity has nothing to add.
        return False
    look = continuity.look_of_keyframes(keyframes)
    strays = {
        str(character.pk): stray
        for character, images in _character_references(take).items()
        if (stray := continuity.reference_stray(look, images)) is not None
    }
    storage = take.media.storage
    folder = f"takes/{take.shot.brief_id}/{take.shot_id}/{take.number}/continuity"
    stored = [
        {
            "time_s": frame.time_s,
            "name": storage.save(f"{folder}/keyframe-{index}.jpg", ContentFile(frame.image)),
        }
        for index, frame in enumerate(keyframes)
    ]
    try:
        with transaction.atomic():
            TakeLook.objects.create(
                take=take,
                keyframes=stored,
                reference_stray=strays,
                measure_ms=round((time.perf_counter() - started) * 1000),
                **look.as_fields(),
            )
    except IntegrityError:
        # Another worker measured it first; its keyframes are the ones the sheet shows.
        for frame in stored:
            storage.delete(frame["name"])
        return False
    return True


def _character_references(take: Take) -> dict:
    """Map each character the shot shows to the images of the take's references of them."""
    cast = {character.pk: character for character in take.shot.characters.all()}
    found: dict = {}
    assets = list(take.references.all())
    for asset, reference in zip(assets, references_for(assets), strict=True):
        for character in asset.characters.all():
            if character.pk in cast and reference.image_path:
                found.setdefault(cast[character.pk], []).append(reference.image_path)
    return found


def _score_new_pairs(brief_id: int, takes: Sequence[Take], looks: dict[int, TakeLook]) -> int:
    existing = set(
        ContinuityPair.objects.filter(brief_id=brief_id).values_list("first_id", "second_id")
    )
    scored = 0
    for first, second in itertools.combinations(takes, 2):
        if (first.pk, second.pk) in existing or first.shot_id == second.shot_id:
            continue
        shared = {c.pk for c in first.shot.characters.all()} & {
            c.pk for c in second.shot.characters.all()
        }
        score = _compare(looks[first.pk], looks[second.pk], shared)
        try:
            with transaction.atomic():
                pair = ContinuityPair.objects.create(
                    brief_id=brief_id,
                    first=first,
                    second=second,
                    look=score.look,
                    palette=score.palette,
                    light=score.light,
                    drift=round(score.drift, 4),
                    drifted=score.drifted,
                )
                pair.characters.set(shared)
        except IntegrityError:
            continue  # scored by another worker meanwhile
        scored += 1
    return scored


def _compare(first: TakeLook, second: TakeLook, shared: set[int]) -> continuity.PairScore:
    """Compare two looks; the look part judges the shared character that strays most."""
    strays = [
        (first.reference_stray[key], second.reference_stray[key])
        for key in map(str, shared)
        if key in first.reference_stray and key in second.reference_stray
    ]
    a_reference, b_reference = max(strays, key=max) if strays else (None, None)
    return continuity.compare(
        Look.from_record(first),
        Look.from_record(second),
        a_reference=a_reference,
        b_reference=b_reference,
    )


def pair_parts(pair: ContinuityPair) -> dict[str, float | None]:
    """Return a stored pair's parts by name, in the order the sheet shows them."""
    return {"look": pair.look, "palette": pair.palette, "light": pair.light}


def drift_of(take: Take, pairs: Sequence[ContinuityPair], shot_orders: dict[int, int]) -> str:
    """Say which shots a take drifts from and how, or "" when it keeps with most of them."""
    drifted = [pair for pair in pairs if pair.drifted]
    # Beyond the limit against most of the others (the shot that changed, not the ones it
    # changed from); with one pair there is no telling which, so both go to a human.
    if not drifted or (len(pairs) > 1 and 2 * len(drifted) <= len(pairs)):
        return ""
    limits = continuity.continuity_limits()
    details = []
    for pair in drifted:
        other = pair.second_id if pair.first_id == take.pk else pair.first_id
        parts = [
            f"{name} {value:.2f} > {limits[name]}"
            for name, value in pair_parts(pair).items()
            if value is not None and value > limits[name]
        ]
        details.append(f"shot {shot_orders[other]} ({', '.join(parts)})")
    return f"continuity: drifts from {len(drifted)} of {len(pairs)} other shots: " + "; ".join(
        details
    )


def _route(take: Take, takes: Sequence[Take], owner: str) -> bool:
    """Give a drifting take its finding and send it to the human queue; True when routed now."""
    if any(finding.get("name") == FINDING for finding in take.checks):
        return False
    current = {other.pk: other.shot.order for other in takes}
    pairs = [
        pair
        for pair in ContinuityPair.objects.filter(Q(first=take) | Q(second=take))
        if pair.first_id in current and pair.second_id in current
    ]
    reason = drift_of(take, pairs, current)
    if not reason:
        return False
    worst = max(pair.drift for pair in pairs if pair.drifted)
    finding = {
        "name": FINDING,
        "passed": False,
        "value": round(worst, 2),
        "limit": "<= 1 (each part within its limit)",
        "reason": reason,
        "start_s": 0.0,
        "end_s": round(take.duration_s or 0.0, 3),
    }
    clock = Clock()
    with transaction.atomic():
        # The version moves on: a decision made on the take as it was must be made again.
        moved = Take.objects.filter(
            pk=take.pk, status=take.status, version=take.version, is_current=True
        ).update(
            status=Take.Status.ROUTED,
            status_reason="; ".join(r for r in (take.status_reason, reason) if r),
            checks=[*take.checks, finding],
            checks_passed=False,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        if not moved:
            return False
        set_shot_status(take.shot_id, Shot.Status.NEEDS_HUMAN, reason=reason, only_if_current=take)
        log_handoff(
            brief_id=take.shot.brief_id,
            shot_id=take.shot_id,
            take_id=take.pk,
            step=Step.CHECK,
            outcome=Outcome.ROUTED,
            clock=clock,
            owner=owner,
            reasons=[reason],
            detail={"checks": [finding]},
        )
    return True
