"""Earned autonomy: the machine decides a step only where it has agreed with people often enough.

A policy moves manual -> shadow -> auto (with sampling) -> suspended. In shadow the machine
predicts from the checks and the critic while a human still decides; once the Wilson lower bound
of agreement over the last N human-checked predictions clears the policy's bar, the policy
promotes itself. In auto, a sampled share of takes still goes to a human as an audit; when a
human disagrees (an audit, or a reversal of an automatic approval) and the bound falls below the
bar, the policy suspends itself and tells the admins. Export and delivery are never automatic.

The pipeline calls on_take_ready(take) when a take becomes ready for review; the post_save
receiver in reliability.models calls record_human_verdict() after each applied decision.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from briefs import pipeline
from briefs.models import Handoff, Take
from reliability.alerts import emit_event
from reliability.models import (
    BAR_FLOOR,
    BAR_MESSAGE,
    MIN_DECISIONS_FLOOR,
    MIN_DECISIONS_MESSAGE,
    AutonomyPolicy,
    PolicyEvent,
    ShadowPrediction,
)
from review.models import Decision
from studio.roles import Role, has_role

logger = logging.getLogger(__name__)

Mode = AutonomyPolicy.Mode
MANAGE_PERMISSION = "reliability.manage_autonomy"
Route = ShadowPrediction.Route
Verdict = ShadowPrediction.Verdict


class AutonomyError(Exception):
    """A policy change the policy's evidence or state does not allow; the message is for people."""


class RandomSource(Protocol):
    def random(self) -> float: ...


class Outcome(StrEnum):
    """What on_take_ready did with a take."""

    HUMAN = "human"  # no policy, manual, suspended, or the machine would reject: people decide
    SHADOW = "shadow"  # the machine predicted, people decide, agreement is measured
    AUDIT = "audit"  # auto mode, but this take was sampled for a human audit
    AUTO_APPROVED = "auto_approved"  # the machine approved it (a Handoff says so; reversible)


@dataclass(frozen=True)
class Agreement:
    """How often people agreed with the machine over a policy's recent predictions."""

    agreed: int
    decided: int
    needed: int
    lower_bound: float | None

    @property
    def rate(self) -> float | None:
        return self.agreed / self.decided if self.decided else None

    @property
    def enough(self) -> bool:
        return self.decided >= self.needed


def wilson_lower_bound(successes: int, trials: int, z: float | None = None) -> float | None:
    """Return the lower end of the Wilson score interval for successes out of trials."""
    if trials <= 0:
        return None
    z = settings.AUTONOMY_WILSON_Z if z is None else z
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = p + z * z / (2 * trials)
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, (centre - margin) / denominator)


# --- Reads --------------------------------------------------------------------------------------
def policy_for(take: Take, step: str = AutonomyPolicy.Step.REVIEW) -> AutonomyPolicy | None:
    """Return the policy that governs the take: its IP's own, else the one for every IP."""
    ip_id = take.shot.brief.ip_id
    candidates = AutonomyPolicy.objects.filter(step=step).filter(
        Q(ip_id=ip_id) | Q(ip__isnull=True)
    )
    return min(candidates, key=lambda policy: policy.ip_id is None, default=None)


def agreement(policy: AutonomyPolicy) -> Agreement:
    """Measure agreement over the policy's last N predictions a human has decided."""
    window = list(
        policy.predictions.filter(decided_at__isnull=False)
        .order_by("-decided_at", "-pk")
        .values_list("agreed", flat=True)[: policy.min_decisions]
    )
    agreed = sum(1 for value in window if value)
    return Agreement(
        agreed=agreed,
        decided=len(window),
        needed=policy.min_decisions,
        lower_bound=wilson_lower_bound(agreed, len(window)),
    )


def earned_auto(policy: AutonomyPolicy, evidence: Agreement | None = None) -> bool:
    """Tell whether the policy's agreement over the last N decisions clears its bar."""
    evidence = evidence or agreement(policy)
    return evidence.enough and (evidence.lower_bound or 0) >= policy.bar


def predict(take: Take, policy: AutonomyPolicy) -> tuple[str, float | None]:
    """Predict the verdict from the take's checks and critic score (its confidence)."""
    confident = take.confidence is not None and take.confidence >= policy.threshold
    verdict = Verdict.APPROVED if take.checks_passed and confident else Verdict.REJECTED
    return verdict, take.confidence


def policies_overview() -> list[tuple[AutonomyPolicy, Agreement]]:
    """Return every policy with its current agreement figures."""
    policies = AutonomyPolicy.objects.select_related("ip", "updated_by")
    return [(policy, agreement(policy)) for policy in policies]


def policy_trail(policy: AutonomyPolicy) -> QuerySet[PolicyEvent]:
    """Return the policy's audit trail, newest first."""
    return policy.events.select_related("actor")


def auto_approved_take_ids(take_ids: list[int]) -> set[int]:
    """Return which of the takes the machine approved (for a badge on the board)."""
    rows = Handoff.objects.filter(take_id__in=take_ids, outcome=Handoff.Outcome.AUTO_APPROVED)
    return set(rows.values_list("take_id", flat=True))


# --- The pipeline's hook ------------------------------------------------------------------------
def on_take_ready(take: Take, *, rng: RandomSource | None = None) -> Outcome:
    """Let the take's policy predict, sample or approve it; call once a take is ready for review.

    Idempotent: a take already predicted under its policy is left as it is.
    """
    take = Take.objects.select_related("shot__brief__ip").get(pk=take.pk)
    if take.status != Take.Status.READY:
        return Outcome.HUMAN
    policy = policy_for(take)
    if policy is None or policy.mode in (Mode.MANUAL, Mode.SUSPENDED):
        return Outcome.HUMAN
    verdict, confidence = predict(take, policy)
    if policy.mode == Mode.SHADOW:
        route = Route.SHADOW
    elif verdict == Verdict.REJECTED:
        route = Route.HUMAN
    elif take.shot.brief.approvals_needed > 1:
        # A shot that several directors must sign off is never the machine's alone to approve.
        route = Route.AUDIT
    elif (rng or random).random() < policy.sample_rate:
        route = Route.AUDIT
    else:
        route = Route.AUTO
    try:
        with transaction.atomic():
            prediction = ShadowPrediction.objects.create(
                take=take, policy=policy, route=route, predicted=verdict, confidence=confidence
            )
    except IntegrityError:
        return Outcome.HUMAN
    if route == Route.AUTO:
        return _auto_approve(take, policy, prediction)
    return {Route.SHADOW: Outcome.SHADOW, Route.AUDIT: Outcome.AUDIT}.get(route, Outcome.HUMAN)


def _auto_approve(take: Take, policy: AutonomyPolicy, prediction: ShadowPrediction) -> Outcome:
    reason = (
        f"Auto-approved by the {policy} policy: checks passed, score "
        f"{prediction.confidence:.2f} ≥ {policy.threshold:.2f}"
    )
    try:
        with transaction.atomic():
            pipeline.record_take_verdict(
                take_id=take.pk, expected_version=take.version, verdict="approved", reason=reason
            )
            # The pipeline logs every verdict as a review handoff; this one was the machine's.
            logged = Handoff.objects.filter(take_id=take.pk, step=Handoff.Step.REVIEW).latest("pk")
            logged.outcome = Handoff.Outcome.AUTO_APPROVED
            logged.worker = f"autonomy:policy-{policy.pk}"
            logged.detail = {**logged.detail, "policy": policy.pk, "mode": policy.mode}
            logged.save(update_fields=["outcome", "worker", "detail"])
    except pipeline.PipelineError:
        # A person decided first; their decision stands and this prediction is theirs to judge.
        ShadowPrediction.objects.filter(pk=prediction.pk).update(route=Route.SHADOW)
        return Outcome.HUMAN
    return Outcome.AUTO_APPROVED


# --- Human verdicts -----------------------------------------------------------------------------
def record_verdict_after_commit(sender: Any, instance: Decision, created: bool, **kwargs) -> None:
    """post_save receiver: count a final human decision once it commits.

    A decision that lost a race to another director rolls back, so it is never evidence; a
    sign-off awaiting other directors, or a disagreement sent to a lead, is not yet the verdict.
    """
    if created and instance.is_final:
        transaction.on_commit(lambda: record_human_verdict(decision_id=instance.pk))


def record_human_verdict(*, decision_id: int) -> ShadowPrediction | None:
    """Join a human decision to the machine's open prediction and re-judge the policy."""
    decision = Decision.objects.select_related("user").get(pk=decision_id)
    with transaction.atomic():
        prediction = (
            ShadowPrediction.objects.select_for_update()
            .filter(take_id=decision.take_id, decided_at__isnull=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        if prediction is None:
            return None
        prediction.human_verdict = decision.verdict
        prediction.human = decision.user
        prediction.agreed = decision.verdict == prediction.predicted
        prediction.decided_at = timezone.now()
        prediction.save(update_fields=["human_verdict", "human", "agreed", "decided_at"])
        policy = AutonomyPolicy.objects.select_for_update().get(pk=prediction.policy_id)
        if policy.mode == Mode.SHADOW:
            _promote_if_earned(policy)
        elif policy.mode == Mode.AUTO and not prediction.agreed:
            _suspend_if_below_bar(policy, prediction)
    return prediction


def _promote_if_earned(policy: AutonomyPolicy) -> None:
    evidence = agreement(policy)
    if not earned_auto(policy, evidence):
        return
    note = (
        f"Agreement {evidence.agreed}/{evidence.decided} over the last {evidence.decided} "
        f"decisions; lower bound {evidence.lower_bound:.3f} ≥ bar {policy.bar:.3f}."
    )
    _machine_transition(policy, Mode.AUTO, PolicyEvent.Kind.PROMOTED, evidence, note)


def _suspend_if_below_bar(policy: AutonomyPolicy, prediction: ShadowPrediction) -> None:
    evidence = agreement(policy)
    if (evidence.lower_bound or 0) >= policy.bar:
        return
    who = prediction.human.get_username() if prediction.human else "a human"
    note = (
        f"{who} decided {prediction.human_verdict} on take {prediction.take_id}, the machine "
        f"{'approved' if prediction.route == Route.AUTO else 'predicted'} "
        f"{prediction.predicted}. Agreement lower bound {evidence.lower_bound:.3f} "
        f"is below the bar {policy.bar:.3f}."
    )
    _machine_transition(policy, Mode.SUSPENDED, PolicyEvent.Kind.SUSPENDED, evidence, note)


def _machine_transition(
    policy: AutonomyPolicy, mode: str, kind: str, evidence: Agreement, note: str
) -> None:
    previous = policy.mode
    policy.mode = mode
    policy.status_reason = note
    policy.save(update_fields=["mode", "status_reason", "updated_at"])
    PolicyEvent.objects.create(
        policy=policy,
        kind=kind,
        from_mode=previous,
        to_mode=mode,
        evidence={
            "agreed": evidence.agreed,
            "decided": evidence.decided,
            "lower_bound": evidence.lower_bound,
            "bar": policy.bar,
        },
        note=note,
    )
    event = "autonomy.promoted" if kind == PolicyEvent.Kind.PROMOTED else "autonomy.suspended"
    payload = {"policy": policy.pk, "step": policy.step, "ip": policy.ip_id, "note": note}
    transaction.on_commit(lambda: emit_event(event, payload))
    subject = f"Autonomy policy “{policy}” {PolicyEvent.Kind(kind).label.lower()}"
    transaction.on_commit(lambda: notify_admins(subject=subject, body=note))


def notify_admins(*, subject: str, body: str) -> int:
    """Email every active user who may set policies (lead directors, superusers) with an address."""
    app_label, codename = MANAGE_PERMISSION.split(".")
    lead = Q(
        user_permissions__content_type__app_label=app_label,
        user_permissions__codename=codename,
    ) | Q(
        groups__permissions__content_type__app_label=app_label,
        groups__permissions__codename=codename,
    )
    admins = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | lead)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    recipients = sorted(admins)
    if not recipients:
        logger.warning("no admin to tell: %s", subject)
        return 0
    return send_mail(f"[Studio] {subject}", body, None, recipients)


# --- Admin edits --------------------------------------------------------------------------------
EDITABLE = ("mode", "threshold", "sample_rate", "min_decisions", "bar")


def may_manage_policies(user: Any) -> bool:
    """Tell whether a user may create or change policies: lead directors and superusers."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return has_role(user, Role.CREATIVE_DIRECTOR) and user.has_perm(MANAGE_PERMISSION)


def _require_lead(user: Any) -> None:
    if not may_manage_policies(user):
        raise PermissionDenied("Only the lead creative director may set autonomy policies.")


def _check_floors(policy: AutonomyPolicy) -> None:
    # The schema refuses these too; saying so here keeps the message for people.
    if policy.min_decisions < MIN_DECISIONS_FLOOR:
        raise AutonomyError(MIN_DECISIONS_MESSAGE)
    if not BAR_FLOOR <= policy.bar <= 1:
        raise AutonomyError(BAR_MESSAGE)
    # A bar that even perfect agreement over N cannot reach would keep the policy in shadow forever.
    best = wilson_lower_bound(policy.min_decisions, policy.min_decisions) or 0.0
    if best < policy.bar:
        raise AutonomyError(
            f"With N = {policy.min_decisions}, even perfect agreement has a lower bound of "
            f"{best:.3f}, below the bar of {policy.bar:.3f}: {_fewest_decisions(policy.bar)}"
        )


def _fewest_decisions(bar: float) -> str:
    # With every prediction agreed the Wilson bound is n / (n + z^2), so n >= z^2 * bar / (1 - bar).
    if bar >= 1:
        return "no number of decisions reaches a bar of 1; lower the bar."
    z = settings.AUTONOMY_WILSON_Z
    needed = max(1, math.ceil(z * z * bar / (1 - bar)) - 1)
    while (wilson_lower_bound(needed, needed) or 0.0) < bar:
        needed += 1
    return f"raise N to at least {needed} or lower the bar."


def policy_create(
    *,
    user: Any,
    step: str = AutonomyPolicy.Step.REVIEW,
    ip: Any = None,
    threshold: float = 0.8,
    sample_rate: float = 0.1,
    min_decisions: int = 50,
    bar: float = 0.9,
) -> AutonomyPolicy:
    """Create a policy for a step (and optionally one IP); every policy starts manual."""
    _require_lead(user)
    if AutonomyPolicy.objects.filter(step=step, ip=ip).exists():
        raise AutonomyError("That step already has a policy for this IP; edit it.")
    policy = AutonomyPolicy(
        step=step,
        ip=ip,
        threshold=threshold,
        sample_rate=sample_rate,
        min_decisions=min_decisions,
        bar=bar,
        updated_by=user,
    )
    _check_floors(policy)
    policy.save()
    PolicyEvent.objects.create(
        policy=policy,
        kind=PolicyEvent.Kind.CREATED,
        actor=user,
        to_mode=policy.mode,
        changes={name: [None, getattr(policy, name)] for name in EDITABLE},
    )
    return policy


@transaction.atomic
def policy_update(*, policy: AutonomyPolicy, user: Any, note: str = "", **values: Any) -> Any:
    """Change a policy's mode or numbers, recording who changed what and why.

    Auto must be earned: it is refused unless the policy is in shadow and its agreement over the
    last N decisions clears the bar.
    """
    _require_lead(user)
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    policy = AutonomyPolicy.objects.select_for_update().get(pk=policy.pk)
    changes = {
        name: [getattr(policy, name), value]
        for name, value in values.items()
        if getattr(policy, name) != value
    }
    if not changes:
        return policy
    previous = policy.mode
    for name, (_, value) in changes.items():
        setattr(policy, name, value)
    _check_floors(policy)
    if "mode" in changes and policy.mode == Mode.AUTO:
        if previous != Mode.SHADOW:
            raise AutonomyError("A policy earns auto in shadow mode: switch it to shadow first.")
        evidence = agreement(policy)
        if not earned_auto(policy, evidence):
            bound = "none yet" if evidence.lower_bound is None else f"{evidence.lower_bound:.3f}"
            raise AutonomyError(
                f"Not earned yet: {evidence.agreed} of {evidence.decided} recent predictions "
                f"agreed with people ({evidence.needed} needed); the lower bound ({bound}) must "
                f"reach {policy.bar:.3f}."
            )
    if "mode" in changes:
        policy.status_reason = note
    policy.updated_by = user
    policy.save()
    PolicyEvent.objects.create(
        policy=policy,
        kind=PolicyEvent.Kind.CHANGED,
        actor=user,
        from_mode=previous,
        to_mode=policy.mode,
        changes=changes,
        note=note,
    )
    return policy
