"""Reliability metrics computed from a known handoff log equal the figures worked out by hand."""

from datetime import timedelta
from decimal import Decimal

import pytest

from briefs.models import Brief, Handoff, Shot, Take
from reliability import metrics
from review.models import Decision
from tests.factories.briefs import BriefFactory, ShotFactory
from tests.factories.reliability import T0, HandoffFactory, light_take
from tests.factories.retrieval import IPFactory
from tests.factories.review import DecisionFactory
from tests.factories.users import director

Step, Outcome = Handoff.Step, Handoff.Outcome
BLACK_CLIP = {"checks": [{"name": "black", "passed": False, "value": 2.0, "limit": ">= 16"}]}


@pytest.fixture
def known_log(db):
    """Two briefs whose every handoff, take and decision is written out below.

    Harbour brief (completed): shot 1 passes straight through and is approved; shot 2's first
    clip is retried once, then routed (black clip); a director re-prompts it and approves take 2.
    Moon brief (in review): its one shot passes the checks and is rejected as off-brand.
    """
    ada = director(username="ada", first_name="Ada", last_name="Lovelace")
    bo = director(username="bo", first_name="Bo", last_name="Diddley")
    harbour = BriefFactory(
        ip=IPFactory(name="Harbour"), status=Brief.Status.COMPLETED, spent=Decimal("1.21")
    )
    moon = BriefFactory(
        ip=IPFactory(name="Moon"), status=Brief.Status.IN_REVIEW, spent=Decimal("0.41")
    )
    h1 = ShotFactory(brief=harbour, order=1, status=Shot.Status.APPROVED)
    h2 = ShotFactory(brief=harbour, order=2, status=Shot.Status.APPROVED)
    m1 = ShotFactory(brief=moon, order=1, status=Shot.Status.REJECTED)
    h1t1 = light_take(h1, status=Take.Status.APPROVED)
    h2t1 = light_take(h2, status=Take.Status.ROUTED, is_current=False)
    h2t2 = light_take(h2, number=2, status=Take.Status.APPROVED, created_by=ada, parent=h2t1)
    m1t1 = light_take(m1, status=Take.Status.REJECTED)
    at = T0
    log = [
        (harbour, None, None, Step.RETRIEVE, Outcome.PASSED, 100, "0", {}),
        (harbour, None, None, Step.PLAN, Outcome.PASSED, 200, "0.01", {}),
        (harbour, h1, h1t1, Step.GENERATE, Outcome.PASSED, 1000, "0.40", {}),
        (harbour, h1, h1t1, Step.CHECK, Outcome.PASSED, 300, "0", {}),
        (harbour, h2, h2t1, Step.GENERATE, Outcome.RETRIED, 50, "0", {}),
        (harbour, h2, h2t1, Step.GENERATE, Outcome.PASSED, 900, "0.40", {}),
        (harbour, h2, h2t1, Step.CHECK, Outcome.ROUTED, 400, "0", BLACK_CLIP),
        (harbour, h2, h2t2, Step.GENERATE, Outcome.PASSED, 1100, "0.40", {}),
        (harbour, h2, h2t2, Step.CHECK, Outcome.PASSED, 350, "0", {}),
        (harbour, h1, h1t1, Step.REVIEW, Outcome.PASSED, 5, "0", {}),
        (harbour, h2, h2t2, Step.REVIEW, Outcome.PASSED, 5, "0", {}),
        (moon, m1, m1t1, Step.GENERATE, Outcome.PASSED, 1200, "0.40", {}),
        (moon, m1, m1t1, Step.CHECK, Outcome.PASSED, 250, "0", {}),
        (moon, m1, m1t1, Step.REVIEW, Outcome.FAILED, 5, "0", {}),
    ]
    for brief, shot, take, step, outcome, latency, cost, detail in log:
        at += timedelta(minutes=1)
        HandoffFactory(
            brief=brief,
            shot=shot,
            take=take,
            step=step,
            outcome=outcome,
            latency_ms=latency,
            cost=Decimal(cost),
            detail=detail,
            started_at=at,
        )
    DecisionFactory(take=h1t1, user=ada, verdict=Decision.Verdict.APPROVED)
    DecisionFactory(take=h2t2, user=ada, verdict=Decision.Verdict.APPROVED)
    DecisionFactory(take=m1t1, user=bo, verdict=Decision.Verdict.REJECTED, reason="off_brand")
    return {"harbour": harbour, "moon": moon}


def test_per_step_figures_match_the_log(known_log):
    steps = {s.step: s for s in metrics.step_metrics(metrics.Filters())}

    assert list(steps) == ["retrieve", "plan", "generate", "check", "review"]
    generate = steps["generate"]
    assert (generate.attempts, generate.passed, generate.retried) == (5, 4, 1)
    assert generate.pass_rate == pytest.approx(0.8)
    # Latencies 50, 900, 1000, 1100, 1200: the median is 1000; p95 sits at rank 3.8.
    assert generate.p50_ms == pytest.approx(1000)
    assert generate.p95_ms == pytest.approx(1100 + 0.8 * 100)
    assert generate.cost == Decimal("1.6000")
    check = steps["check"]
    assert (check.attempts, check.passed, check.routed) == (4, 3, 1)
    review = steps["review"]
    assert (review.passed, review.failed) == (2, 1)
    assert steps["plan"].cost == Decimal("0.0100")


def test_predicted_end_to_end_is_the_product_of_step_pass_rates(known_log):
    data = metrics.dashboard(metrics.Filters())

    # retrieve 1 * plan 1 * generate 4/5 * check 3/4 * review 2/3
    assert data.end_to_end.predicted == pytest.approx(0.4)


def test_measured_end_to_end_counts_only_shots_approved_without_rescue(known_log):
    e2e = metrics.dashboard(metrics.Filters()).end_to_end

    # Harbour shot 1 is clean; shot 2 was routed and re-prompted; the Moon shot was rejected.
    assert (e2e.shots_clean, e2e.shots_decided) == (1, 3)
    assert e2e.measured_shots == pytest.approx(1 / 3)
    # Harbour completed with a rescued shot; Moon is settled in review with a rejection.
    assert (e2e.briefs_clean, e2e.briefs_settled) == (0, 2)
    # First verdicts: approve, approve, reject.
    assert e2e.first_pass_approval == pytest.approx(2 / 3)


def test_where_failures_concentrate(known_log):
    data = metrics.dashboard(metrics.Filters())

    assert data.routed.totals == {"Black clip": 1}
    assert data.rejections.totals == {"Off-brand": 1}
    assert [(a.name, a.approved, a.rejected) for a in data.by_ip] == [
        ("Harbour", 2, 0),
        ("Moon", 0, 1),
    ]
    assert [(a.name, a.rate) for a in data.by_director] == [
        ("Ada Lovelace", 1.0),
        ("Bo Diddley", 0.0),
    ]


def test_takes_and_cost_per_approved_footage(known_log):
    footage = metrics.dashboard(metrics.Filters()).footage

    # Two approved shots took three takes; 1.21 + 0.41 spent for 2 * 4 approved seconds.
    assert footage.takes_per_approved_shot == pytest.approx(1.5)
    assert footage.cost_per_approved_second == Decimal("0.2025")


def test_filters_narrow_every_figure_to_one_ip_and_window(known_log):
    harbour = known_log["harbour"]

    only_harbour = metrics.dashboard(metrics.Filters(ip_id=harbour.ip_id))
    assert only_harbour.end_to_end.predicted == pytest.approx(1 * 1 * 0.75 * (2 / 3) * 1)
    assert (only_harbour.end_to_end.shots_clean, only_harbour.end_to_end.shots_decided) == (1, 2)

    late = metrics.Filters(since=T0 + timedelta(minutes=12))
    assert [(s.step, s.attempts) for s in metrics.step_metrics(late)] == [
        ("generate", 1),
        ("check", 1),
        ("review", 1),
    ]


def test_reason_category_names_the_first_failed_check_or_the_error():
    assert metrics.reason_category("check", BLACK_CLIP, ["clip is black"]) == "Black clip"
    assert (
        metrics.reason_category("generate", {}, ["the safety filter removed the clip: x"])
        == "Safety filter"
    )
    assert metrics.reason_category("plan", {}, ["planner failed"]) == "Plan error"
