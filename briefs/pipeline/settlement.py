"""Settling a brief: to review once no shot is in flight; completed once every shot is approved."""

from __future__ import annotations

from django.utils import timezone

from briefs import signals
from briefs.models import Brief, Shot, Take
from briefs.pipeline.states import SHOT_UNSETTLED


def settle_brief(brief_id: int) -> None:
    """Hand the brief to review (or to its producer) once no shot is still in the pipeline."""
    brief = Brief.objects.select_for_update().get(pk=brief_id)
    if brief.status != Brief.Status.GENERATING:
        return
    counts: dict[str, int] = {}
    for status in Shot.objects.filter(brief_id=brief_id).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    if any(counts.get(status) for status in SHOT_UNSETTLED):
        return
    failed = counts.get(Shot.Status.FAILED, 0)
    routed = counts.get(Shot.Status.NEEDS_HUMAN, 0)
    ready = counts.get(Shot.Status.READY, 0) + counts.get(Shot.Status.APPROVED, 0)
    parts = [f"{ready} shot(s) ready for review"]
    if routed:
        parts.append(f"{routed} routed to a human with reasons")
    if failed:
        stopped = Shot.objects.filter(brief_id=brief_id, status=Shot.Status.FAILED).first()
        parts.append(f"{failed} not generated: {stopped.status_reason}")
    Brief.objects.filter(pk=brief_id, status=Brief.Status.GENERATING).update(
        status=Brief.Status.NEEDS_ATTENTION if failed else Brief.Status.IN_REVIEW,
        status_reason="; ".join(parts),
        lease_owner="",
        lease_expires_at=None,
        updated_at=timezone.now(),
    )


def update_brief_after_review(brief_id: int) -> None:
    """Complete the brief when every shot's current take is approved; reopen it otherwise."""
    shots = Shot.objects.filter(brief_id=brief_id)
    total = shots.count()
    approved = shots.filter(takes__is_current=True, takes__status=Take.Status.APPROVED).count()
    all_approved = approved == total
    now = timezone.now()
    if all_approved:
        completed = Brief.objects.filter(pk=brief_id, status=Brief.Status.IN_REVIEW).update(
            status=Brief.Status.COMPLETED,
            status_reason="Every shot has an approved take.",
            completed_at=now,
            updated_at=now,
        )
        if completed:
            signals.brief_completed.send(sender=Brief, brief_id=brief_id)
    else:
        # The reason written when review began goes stale with every decision: keep it current.
        Brief.objects.filter(
            pk=brief_id, status__in=[Brief.Status.IN_REVIEW, Brief.Status.COMPLETED]
        ).update(
            status=Brief.Status.IN_REVIEW,
            status_reason=f"{approved} of {total} shot(s) approved.",
            completed_at=None,
            updated_at=now,
        )
