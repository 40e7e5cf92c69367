"""Factories for reliability and autonomy: handoffs at known times, light takes, policies."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from briefs.models import Brief, Handoff, Shot, Take
from reliability.models import AutonomyPolicy
from review.models import Decision
from tests.factories.briefs import BriefFactory, ShotFactory
from tests.factories.retrieval import IPFactory
from tests.factories.users import director

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class HandoffFactory(factory.django.DjangoModelFactory):
    """A passed step attempt that started at T0 and took latency_ms."""

    class Meta:
        model = Handoff

    brief = factory.LazyAttribute(lambda o: o.shot.brief if o.shot else None)
    shot = None
    take = None
    step = Handoff.Step.GENERATE
    attempt = 1
    outcome = Handoff.Outcome.PASSED
    latency_ms = 100
    cost = Decimal("0")
    model = "local"
    worker = "test-worker"
    started_at = T0
    finished_at = factory.LazyAttribute(
        lambda o: o.started_at + timedelta(milliseconds=o.latency_ms)
    )


def light_take(shot: Shot, *, number: int = 1, **fields) -> Take:
    """Create a take without media: enough for metrics, which never open the clip."""
    defaults = {
        "prompt": shot.prompt,
        "status": Take.Status.READY,
        "checks_passed": True,
        "confidence": 0.9,
        "duration_s": float(shot.duration_s),
    }
    return Take.objects.create(shot=shot, number=number, **(defaults | fields))


def ready_shot_take(*, brief=None, confidence: float = 0.9, checks_passed: bool = True) -> Take:
    """Create a shot with one ready, current take whose checks scored `confidence`."""
    shot = ShotFactory(**({"brief": brief} if brief else {}), status=Shot.Status.READY)
    return light_take(shot, confidence=confidence, checks_passed=checks_passed)


class PolicyFactory(factory.django.DjangoModelFactory):
    """A review policy for every IP, in shadow; 35 is the fewest perfect agreements reaching 0.9."""

    class Meta:
        model = AutonomyPolicy

    step = AutonomyPolicy.Step.REVIEW
    ip = None
    mode = AutonomyPolicy.Mode.SHADOW
    threshold = 0.8
    sample_rate = 0.25
    min_decisions = 35
    bar = 0.9


FAILED_CHECKS = {
    "black": {"name": "black", "passed": False, "value": 3.1, "limit": ">= 16"},
    "frozen": {"name": "frozen", "passed": False, "value": 0.96, "limit": "<= 0.8"},
    "palette": {"name": "palette", "passed": False, "value": 0.52, "limit": "<= 0.35"},
    "critic": {"name": "critic", "passed": False, "value": 0.31, "limit": ">= 0.45"},
}


def history(*, days: int = 6, seed: int = 7, now: datetime | None = None) -> list:
    """Create a week of briefs on three IPs with retries, routed clips, approvals, rejections."""
    rng = random.Random(seed)
    now = now or timezone.now()
    ips = [IPFactory(name=name) for name in ("Harbour Lights", "Moon Orchard", "Tin Cadets")]
    deciders = [
        director(username="ada", first_name="Ada", last_name="Okafor"),
        director(username="ben", first_name="Ben", last_name="Marsh"),
    ]
    reasons = ["off_brand", "artefacts", "character_inconsistency", "wrong_framing"]
    briefs = []
    for day in range(days, 0, -1):
        for ip in ips:
            at = now - timedelta(days=day, hours=rng.randint(0, 8))
            brief = BriefFactory(ip=ip, shot_count=3, title=f"{ip.name} · day {days - day + 1}")
            log = _logger(brief, at)
            log(None, None, Handoff.Step.RETRIEVE, "passed", 300 + rng.randint(0, 400))
            log(None, None, Handoff.Step.PLAN, "passed", 1500 + rng.randint(0, 1500), "0.002")
            clean = True
            for order in (1, 2, 3):
                shot = ShotFactory(brief=brief, order=order, status=Shot.Status.APPROVED)
                take = light_take(shot, status=Take.Status.APPROVED, cost=Decimal("0.40"))
                if rng.random() < 0.15:
                    log(shot, take, Handoff.Step.GENERATE, "retried", 200, reasons=["429"])
                log(shot, take, Handoff.Step.GENERATE, "passed", 8000 + rng.randint(0, 9000), "0.4")
                if rng.random() < 0.2:
                    failed = rng.choice(list(FAILED_CHECKS))
                    detail = {"checks": [FAILED_CHECKS[failed]]}
                    log(shot, take, Handoff.Step.CHECK, "routed", 900, detail=detail)
                    Take.objects.filter(pk=take.pk).update(is_current=False)
                    take = light_take(
                        shot, number=2, status=Take.Status.APPROVED, created_by=deciders[0]
                    )
                    log(shot, take, Handoff.Step.GENERATE, "passed", 9000, "0.4")
                    clean = False
                log(shot, take, Handoff.Step.CHECK, "passed", 700 + rng.randint(0, 600))
                log.wait(minutes=rng.randint(5, 90))
                who = rng.choice(deciders)
                if rng.random() < 0.18:
                    reason = rng.choice(reasons)
                    verdict = log(shot, take, Handoff.Step.REVIEW, "failed", 5)
                    decision = Decision.objects.create(
                        take=take, user=who, verdict="rejected", reason=reason, take_version=1
                    )
                    Shot.objects.filter(pk=shot.pk).update(status=Shot.Status.REJECTED)
                    clean = False
                else:
                    verdict = log(shot, take, Handoff.Step.REVIEW, "passed", 5)
                    decision = Decision.objects.create(
                        take=take, user=who, verdict="approved", take_version=1
                    )
                Decision.objects.filter(pk=decision.pk).update(created_at=verdict.started_at)
            status = Brief.Status.COMPLETED if clean else Brief.Status.IN_REVIEW
            Brief.objects.filter(pk=brief.pk).update(status=status, spent=Decimal("1.2"))
            briefs.append(brief)
    return briefs


def _logger(brief, start: datetime):
    """Return a function that logs handoffs one after another from `start`."""
    clock = {"at": start}

    def log(shot, take, step, outcome, latency_ms, cost="0", *, reasons=(), detail=None):
        handoff = HandoffFactory(
            brief=brief,
            shot=shot,
            take=take,
            step=step,
            outcome=outcome,
            latency_ms=latency_ms,
            cost=Decimal(cost),
            reasons=list(reasons),
            detail=detail or {},
            started_at=clock["at"],
        )
        clock["at"] += timedelta(milliseconds=latency_ms + 500)
        return handoff

    def wait(*, minutes: int) -> None:
        clock["at"] += timedelta(minutes=minutes)

    log.wait = wait
    return log
