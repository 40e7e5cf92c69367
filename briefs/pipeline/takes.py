"""Creating takes (every re-prompt is a new take; none is overwritten) and moving their shots."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

from django.db.models import Max
from django.utils import timezone

from briefs.models import Shot, Take
from briefs.pipeline.leases import lease_seconds
from briefs.pipeline.scheduling import NextStep


def first_takes(planned: Sequence[tuple[Shot, Sequence[int]]]) -> list[NextStep]:
    """Create take 1 of every newly planned shot in a few statements, and name their steps."""
    deadline = timezone.now() + lease_seconds()
    takes = Take.objects.bulk_create(
        Take(
            shot=shot,
            number=1,
            prompt=shot.prompt,
            negative_prompt=shot.negative_prompt,
            audio=shot.audio,
            seed=zlib.crc32(f"{shot.pk}:1".encode()) & 0x7FFFFFFF,
            lease_expires_at=deadline,
        )
        for shot, _ in planned
    )
    through = Take.references.through
    through.objects.bulk_create(
        through(take_id=take.pk, asset_id=asset_id)
        for take, (_, refs) in zip(takes, planned, strict=True)
        for asset_id in refs
    )
    Shot.objects.filter(pk__in=[shot.pk for shot, _ in planned]).update(
        status=Shot.Status.GENERATING, status_reason="", updated_at=timezone.now()
    )
    return [NextStep("generate", take.pk) for take in takes]


def new_take(
    shot: Shot,
    *,
    prompt: str,
    negative_prompt: str,
    reference_ids: Sequence[int],
    audio: str | None = None,
    user: Any = None,
    parent_id: int | None = None,
) -> Take:
    """Add the shot's next take and make it current; earlier takes stay as they are.

    The take's audio line is `audio` when given, else the shot's.
    """
    number = (shot.takes.aggregate(n=Max("number"))["n"] or 0) + 1
    shot.takes.filter(is_current=True).update(is_current=False, updated_at=timezone.now())
    take = Take.objects.create(
        shot=shot,
        number=number,
        parent_id=parent_id,
        created_by=user,
        prompt=prompt,
        negative_prompt=negative_prompt,
        audio=shot.audio if audio is None else audio,
        seed=zlib.crc32(f"{shot.pk}:{number}".encode()) & 0x7FFFFFFF,
        lease_expires_at=timezone.now() + lease_seconds(),
    )
    take.references.set(reference_ids)
    Shot.objects.filter(pk=shot.pk).update(
        status=Shot.Status.GENERATING, status_reason="", updated_at=timezone.now()
    )
    return take


def set_shot_status(
    shot_id: int, status: str, *, reason: str = "", only_if_current: Take | None = None
) -> None:
    """Move a shot; a take that is no longer current does not speak for its shot."""
    shots = Shot.objects.filter(pk=shot_id)
    if only_if_current is not None:
        shots = shots.filter(takes__pk=only_if_current.pk, takes__is_current=True)
    shots.update(status=status, status_reason=reason, updated_at=timezone.now())
