"""The budget cap: estimates are reserved before a paid call and settled or released after."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from briefs.models import Brief, Shot, Take
from briefs.pipeline.handoffs import Clock, log_handoff
from briefs.pipeline.leases import finish
from briefs.pipeline.scheduling import NextStep
from briefs.pipeline.settlement import settle_brief
from briefs.pipeline.states import BudgetExceededError, LeaseLost, Outcome, Step
from studio.ai import providers
from studio.ai.pricing import cost_for
from studio.ai.protocols import Generator


def estimate_take_cost(generator: Generator, duration_s: int) -> Decimal:
    """Estimate what one take of duration_s seconds costs on this generator."""
    return cost_for(kind="video_seconds", model=generator.model, quantity=duration_s)


def reserve_budget(take: Take, generator: Generator, owner: str) -> bool:
    """Hold the take's estimated cost against the brief's cap; False when it would not fit."""
    if take.reserved_cost:
        return True
    estimate = estimate_take_cost(generator, take.shot.duration_s)
    if not estimate:
        return True
    with transaction.atomic():
        fits = Q(budget_cap__isnull=True) | Q(budget_cap__gte=F("spent") + F("reserved") + estimate)
        if not Brief.objects.filter(fits, pk=take.shot.brief_id).update(
            reserved=F("reserved") + estimate
        ):
            return False
        if not Take.objects.filter(pk=take.pk, lease_owner=owner).update(reserved_cost=estimate):
            raise LeaseLost(f"Take {take.pk}")
    take.reserved_cost = estimate
    return True


def stop_for_budget(take: Take, owner: str, clock: Clock) -> list[NextStep]:
    brief = Brief.objects.get(pk=take.shot.brief_id)
    reason = (
        f"Budget cap ${brief.budget_cap} reached (spent ${brief.spent:.2f}, "
        f"${brief.reserved:.2f} in flight): generation stopped before exceeding it."
    )
    with transaction.atomic():
        finish(Take, take.pk, owner=owner, status=Take.Status.FAILED, status_reason=reason)
        Shot.objects.filter(pk=take.shot_id).update(
            status=Shot.Status.FAILED, status_reason=reason, updated_at=timezone.now()
        )
        log_handoff(
            brief_id=brief.pk,
            shot_id=take.shot_id,
            take_id=take.pk,
            step=Step.GENERATE,
            outcome=Outcome.FAILED,
            clock=clock,
            owner=owner,
            confidence=1.0,
            reasons=[reason],
        )
        settle_brief(brief.pk)
    return []


def release_reservation(take: Take) -> None:
    current = Take.objects.values_list("reserved_cost", flat=True).get(pk=take.pk)
    if current:
        Brief.objects.filter(pk=take.shot.brief_id).update(reserved=F("reserved") - current)


def check_budget_for(brief: Brief, shot: Shot) -> None:
    if brief.budget_cap is None:
        return
    estimate = estimate_take_cost(providers.get_generator(), shot.duration_s)
    if brief.spent + brief.reserved + estimate > brief.budget_cap:
        raise BudgetExceededError(
            f"Another take (about ${estimate:.2f}) would exceed the budget cap of "
            f"${brief.budget_cap} (spent ${brief.spent:.2f})."
        )
