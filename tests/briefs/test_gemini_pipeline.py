"""The pipeline through the real google-genai client, pointed at the loopback fake Gemini API."""

from decimal import Decimal

import pytest

from briefs import pipeline
from briefs.models import Brief, Shot, Take
from tests.factories.briefs import BriefFactory
from tests.factories.retrieval import IPFactory, embedded_asset
from tests.fakes.gemini_server import error, operation_error, operation_filtered, text_answer


@pytest.fixture
def gemini(db, settings, fake_gemini, tmp_path):
    """Embed the catalog locally first, then switch every model call to the fake Gemini API."""
    settings.AI_PROVIDER = "local"
    settings.LOCAL_OPS_DIR = tmp_path
    ip = IPFactory()
    embedded_asset(ip=ip, title="Lantern keeper", description="the lantern keeper walks the pier")
    embedded_asset(ip=ip, title="Tide", description="the tide rolls in over the stones")
    settings.AI_PROVIDER = "gemini"
    settings.GEMINI_API_KEY = "test-key"
    settings.GEMINI_BASE_URL = fake_gemini.url
    fake_gemini.ip = ip
    return fake_gemini


def test_gemini_brief_plans_generates_polls_and_bills_each_take(gemini):
    brief = BriefFactory(ip=gemini.ip, shot_count=2, seconds_per_shot=4)

    brief = pipeline.run_inline(brief.pk)

    assert brief.status == Brief.Status.IN_REVIEW, brief.status_reason
    takes = list(Take.objects.filter(shot__brief=brief))
    assert {take.model for take in takes} == {"veo-3.1-generate-preview"}
    assert all(take.cost == Decimal("1.60") for take in takes)  # 4 s at $0.40 per second
    assert all(take.operation_id.startswith("projects/fake-project/") for take in takes)
    generate_costs = brief.handoffs.filter(step="generate").values_list("cost", flat=True)
    assert sorted(generate_costs) == [Decimal("1.60"), Decimal("1.60")]
    plan_cost = brief.handoffs.get(step="plan").cost
    assert plan_cost > 0
    assert brief.spent == Decimal("3.20") + plan_cost and brief.reserved == 0
    # Veo was polled by re-scheduled steps: one "not done" answer, then the video.
    assert len(gemini.received("fetchPredictOperation")) == 4
    sent = gemini.received("predictLongRunning")[0].body
    assert (
        sent["parameters"]["durationSeconds"] == 4 and sent["parameters"]["aspectRatio"] == "16:9"
    )


def test_malformed_planner_json_is_retried_and_the_second_plan_is_used(gemini):
    gemini.script("generateContent", text_answer('{"shots": "not a list"'))
    brief = BriefFactory(ip=gemini.ip, shot_count=1)

    brief = pipeline.run_inline(brief.pk)

    plans = list(brief.handoffs.filter(step="plan").values_list("outcome", "reasons"))
    assert plans[0][0] == "retried" and "planner failed" in plans[0][1][0]
    assert plans[1][0] == "passed"
    assert brief.shots.count() == 1


def test_a_safety_filtered_clip_is_routed_with_its_reason_and_not_retried(gemini):
    gemini.script("fetchPredictOperation", operation_filtered("Celebrity likeness"))
    brief = BriefFactory(ip=gemini.ip, shot_count=1)

    brief = pipeline.run_inline(brief.pk)

    take = Take.objects.get(shot__brief=brief)
    assert take.status == Take.Status.ROUTED
    assert take.status_reason == "the safety filter removed the clip: Celebrity likeness"
    assert take.shot.status == Shot.Status.NEEDS_HUMAN
    assert brief.status == Brief.Status.IN_REVIEW and "1 routed" in brief.status_reason


def test_an_operation_error_is_rerendered_as_a_new_take(gemini):
    gemini.script("fetchPredictOperation", operation_error(13, "internal error in the model"))
    brief = BriefFactory(ip=gemini.ip, shot_count=1)

    brief = pipeline.run_inline(brief.pk)

    first, second = Take.objects.filter(shot__brief=brief).order_by("number")
    assert first.status == Take.Status.FAILED
    assert "internal error in the model" in first.status_reason and first.cost == 0
    assert second.status == Take.Status.READY and second.cost == Decimal("1.60")
    assert brief.spent - brief.handoffs.get(step="plan").cost == Decimal("1.60")


def test_server_errors_exhaust_the_clients_retries_and_the_step_backs_off(gemini, settings):
    # The client retries 5xx itself (4 retries); a fifth failure reaches the pipeline.
    gemini.script("predictLongRunning", *[error(500, "backend down")] * 5)
    settings.PIPELINE_BACKOFF_BASE_S = 1
    brief = BriefFactory(ip=gemini.ip, shot_count=1)
    pipeline.run_step("retrieve", brief.pk, owner="w")
    [step] = pipeline.run_step("plan", brief.pk, owner="w")

    [retry] = pipeline.run_step("generate", step.object_id, owner="w")

    assert retry == pipeline.NextStep("generate", step.object_id, retry.countdown)
    assert 1 <= retry.countdown <= 2
    handoff = Take.objects.get(pk=step.object_id).handoffs.get()
    assert handoff.outcome == "retried" and "500" in handoff.reasons[0]
    brief.refresh_from_db()
    assert brief.reserved == Decimal("1.60")  # held for the retry, not billed
    assert brief.spent == brief.handoffs.get(step="plan").cost


def test_the_budget_cap_stops_generation_before_it_is_exceeded_and_says_so(gemini):
    brief = BriefFactory(ip=gemini.ip, shot_count=2, seconds_per_shot=4, budget_cap=Decimal("2"))

    brief = pipeline.run_inline(brief.pk)

    assert brief.status == Brief.Status.NEEDS_ATTENTION
    assert "Budget cap $2.00 reached" in brief.status_reason
    assert brief.spent <= Decimal("2") and brief.reserved == 0
    statuses = sorted(Take.objects.filter(shot__brief=brief).values_list("status", flat=True))
    assert statuses == [Take.Status.FAILED, Take.Status.READY]
    assert len(gemini.received("predictLongRunning")) == 1
