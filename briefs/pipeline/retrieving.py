"""The retrieve step: rights-cleared references for the brief, checked before planning."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from briefs import checks
from briefs.models import Brief
from briefs.pipeline.context import Providers
from briefs.pipeline.handoffs import Clock, attempt_number, log_handoff
from briefs.pipeline.leases import claim, move
from briefs.pipeline.routing import retry_brief_step, route_brief
from briefs.pipeline.scheduling import NextStep
from briefs.pipeline.states import LeaseLost, Outcome, Step
from retrieval.selectors import rights_block_reason, search_assets
from studio.ai.types import (
    PermanentProviderError,
    TransientProviderError,
)


def retrieve(brief_id: int, *, owner: str, providers: Providers) -> list[NextStep]:
    """Find the brief's rights-cleared references and check there are enough strong ones."""
    statuses = (Brief.Status.QUEUED, Brief.Status.RETRIEVING)
    if not claim(Brief, brief_id, statuses, owner=owner, status=Brief.Status.RETRIEVING):
        return []
    clock = Clock()
    brief = Brief.objects.select_related("ip").get(pk=brief_id)
    attempt = attempt_number(brief_id=brief_id, step=Step.RETRIEVE)
    query = " ".join(part for part in (brief.title, brief.beat, brief.tone) if part)
    try:
        hits = search_assets(
            ip=brief.ip,
            query=query,
            k=settings.PIPELINE_SEARCH_K,
            territory=brief.territory,
            on_date=brief.release_date,
            use="reference",
        )
    except TransientProviderError as exc:
        return retry_brief_step(brief, Step.RETRIEVE, exc, clock, attempt, owner)
    except PermanentProviderError as exc:
        # Asking again will not help (a bad key, a refused input): a human must look now,
        # not after the lease expires and the sweeper retries the same failure.
        hits, search_error = [], f"reference search failed: {exc}"
    else:
        search_error = ""
    pinned, blocked = [], []
    for asset in brief.pinned_references.select_related("rights"):
        reason = rights_block_reason(
            asset, territory=brief.territory, on_date=brief.release_date, use="reference"
        )
        if reason:
            blocked.append(f"pinned reference “{asset.title}” is not cleared: {reason}")
        else:
            pinned.append(asset)
    result = checks.check_retrieval(
        hits=hits, pinned_count=len(pinned), blocked=blocked, search_error=search_error
    )
    strong = [hit.asset for hit in hits if checks.is_strong_hit(hit)]
    detail = {
        "query": query[:300],
        "hits": [
            {"asset": hit.asset.pk, "title": hit.asset.title, "score": round(hit.score, 4)}
            for hit in hits
        ],
        "pinned": [asset.pk for asset in pinned],
        "checks": result.findings_json(),
    }
    try:
        with transaction.atomic():
            if result.passed:
                move(Brief, brief_id, owner=owner, status=Brief.Status.PLANNING)
                brief.references.set([*pinned, *strong])
            else:
                route_brief(brief_id, owner, result.reasons)
            log_handoff(
                brief_id=brief_id,
                step=Step.RETRIEVE,
                outcome=Outcome.PASSED if result.passed else Outcome.ROUTED,
                clock=clock,
                owner=owner,
                attempt=attempt,
                confidence=result.confidence,
                reasons=result.reasons,
                detail=detail,
            )
    except LeaseLost:
        return []
    return [NextStep("plan", brief_id)] if result.passed else []
