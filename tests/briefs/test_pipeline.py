"""The pipeline run in-process with local providers: steps, checks, routing, leases, review."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from briefs import pipeline
from briefs.models import Brief, Handoff, Shot, Take
from studio.ai import faults, local
from studio.ai.types import Critique, GenerationRequest
from tests.factories.briefs import BriefFactory, ShotFactory, TakeFactory
from tests.factories.retrieval import IPFactory, RightsFactory, embedded_asset
from tests.factories.users import director


@pytest.fixture
def harbour(db):
    """An IP with two embedded, worldwide-cleared references that match the factory beat."""
    ip = IPFactory()
    embedded_asset(
        ip=ip,
        title="Lantern keeper on the pier",
        description="the lantern keeper walks the pier at dusk",
    )
    embedded_asset(
        ip=ip, title="Tide over stones", description="the tide rolls in over the harbour stones"
    )
    return ip


def faulty(step_rates: dict, *, seed: int = 0) -> faults.FaultInjector:
    return faults.FaultInjector(step_rates, random.Random(seed))


def test_local_brief_reaches_review_with_a_passed_handoff_per_step(local_ai, harbour):
    brief = BriefFactory(ip=harbour, shot_count=2)

    brief = pipeline.run_inline(brief.pk)

    assert brief.status == Brief.Status.IN_REVIEW
    assert brief.status_reason == "2 shot(s) ready for review"
    steps = list(brief.handoffs.values_list("step", "outcome"))
    assert steps.count(("retrieve", "passed")) == 1
    assert steps.count(("plan", "passed")) == 1
    assert steps.count(("generate", "passed")) == 2
    assert steps.count(("check", "passed")) == 2
    for shot in brief.shots.all():
        take = shot.takes.get()
        assert shot.status == Shot.Status.READY
        assert take.status == Take.Status.READY and take.is_current
        assert take.media.name.endswith(".mp4") and take.poster.name.endswith(".png")
        assert take.duration_s == pytest.approx(4, abs=0.2)
        assert (take.width, take.height) == (640, 360)
        assert take.checks_passed and {c["name"] for c in take.checks} >= {"black", "palette"}
        assert take.config["idempotency_key"] == str(take.idempotency_key)
        assert take.lease_owner == "" and take.lease_expires_at is None
    assert set(brief.references.values_list("title", flat=True)) == {
        "Lantern keeper on the pier",
        "Tide over stones",
    }


def test_brief_without_references_cleared_in_its_territory_is_routed_with_reasons(local_ai):
    ip = IPFactory()
    asset = embedded_asset(ip=ip, title="Lantern keeper", description="lantern keeper pier dusk")
    asset.rights.delete()
    RightsFactory(asset=asset, worldwide=False, territories=["FR"])
    brief = BriefFactory(ip=ip, territory="GB")

    brief = pipeline.run_inline(brief.pk)

    assert brief.status == Brief.Status.NEEDS_ATTENTION
    assert "only 0 strong rights-cleared reference(s) found" in brief.status_reason
    handoff = brief.handoffs.get()
    assert (handoff.step, handoff.outcome) == ("retrieve", "routed")
    assert not brief.shots.exists()


def test_a_bad_plan_is_retried_once_then_routed_to_a_human(local_ai, harbour):
    brief = BriefFactory(ip=harbour, shot_count=3)
    bad_planner = faults.FaultyPlanner(local.LocalPlanner(), faulty({"plan": {"silent": 1.0}}))

    brief = pipeline.run_inline(brief.pk, providers=pipeline.Providers(planner=bad_planner))

    assert brief.status == Brief.Status.NEEDS_ATTENTION
    assert brief.status_reason.startswith("The plan failed its checks:")
    outcomes = list(brief.handoffs.filter(step="plan").values_list("attempt", "outcome"))
    assert outcomes == [(1, "retried"), (2, "routed")]
    assert not brief.shots.exists()


def test_a_silently_bad_clip_is_rerendered_then_routed_never_sent_to_review(local_ai, harbour):
    brief = BriefFactory(ip=harbour, shot_count=1)
    generator = faults.FaultyGenerator(
        local.LocalGenerator(local_ai.LOCAL_OPS_DIR),
        # Seed 2 draws a black clip, then a frozen one.
        faulty({"generate": {"silent": 1.0}}, seed=2),
        workdir=local_ai.LOCAL_OPS_DIR,
    )

    brief = pipeline.run_inline(brief.pk, providers=pipeline.Providers(generator=generator))

    shot = brief.shots.get()
    first, second = shot.takes.order_by("number")
    assert first.status == Take.Status.FAILED and not first.is_current
    assert first.status_reason.startswith("Failed checks, re-rendered automatically")
    assert "black from 0.00 s to 4.00 s" in first.status_reason
    assert second.status == Take.Status.ROUTED and second.is_current
    assert "picture frozen from" in second.status_reason
    assert second.parent == first
    assert shot.status == Shot.Status.NEEDS_HUMAN and shot.status_reason
    assert brief.status == Brief.Status.IN_REVIEW
    assert "1 routed to a human with reasons" in brief.status_reason
    assert "0 shot(s) ready for review" in brief.status_reason
    checks = list(brief.handoffs.filter(step="check").values_list("outcome", flat=True))
    assert checks == ["retried", "routed"]


def test_transient_errors_back_off_honouring_retry_after_then_route(local_ai, harbour, settings):
    settings.PIPELINE_MAX_ATTEMPTS = 3
    brief = BriefFactory(ip=harbour, shot_count=1)
    providers = pipeline.Providers(
        generator=faults.FaultyGenerator(
            local.LocalGenerator(local_ai.LOCAL_OPS_DIR),
            faulty({"generate": {"rate_limit": 1.0}}),
            workdir=local_ai.LOCAL_OPS_DIR,
        )
    )
    pipeline.run_step("retrieve", brief.pk, owner="w1", providers=providers)
    [generate] = pipeline.run_step("plan", brief.pk, owner="w1", providers=providers)

    first_retry = pipeline.run_step("generate", generate.object_id, owner="w1", providers=providers)
    second_retry = pipeline.run_step(
        "generate", generate.object_id, owner="w1", providers=providers
    )
    given_up = pipeline.run_step("generate", generate.object_id, owner="w1", providers=providers)

    assert first_retry[0].step == "generate" and first_retry[0].countdown >= 1.0
    assert second_retry[0].countdown >= 1.0
    assert given_up == []
    take = Take.objects.get(pk=generate.object_id)
    assert take.status == Take.Status.ROUTED
    assert "kept failing after 3 attempts" in take.status_reason
    logged = take.handoffs.values_list("attempt", "outcome")
    assert list(logged) == [(1, "retried"), (2, "retried"), (3, "routed")]
    assert Brief.objects.get(pk=brief.pk).status == Brief.Status.IN_REVIEW


def test_backoff_grows_exponentially_with_jitter_and_is_capped(settings):
    settings.PIPELINE_BACKOFF_BASE_S = 2
    settings.PIPELINE_BACKOFF_MAX_S = 30

    delays = [pipeline.backoff_seconds(attempt) for attempt in (1, 2, 3, 10)]

    assert 2 <= delays[0] <= 4 and 4 <= delays[1] <= 8 and 8 <= delays[2] <= 16
    assert delays[3] <= 30
    assert pipeline.backoff_seconds(1, retry_after=12) == 12


def test_cancel_stops_queued_takes_and_nothing_is_generated_after(local_ai, harbour):
    brief = BriefFactory(ip=harbour, shot_count=2)
    pipeline.run_step("retrieve", brief.pk, owner="w1")
    queued = pipeline.run_step("plan", brief.pk, owner="w1")

    pipeline.cancel_brief(brief_id=brief.pk, reason="Cancelled by Priya.")
    after = [pipeline.run_step(s.step, s.object_id, owner="w1") for s in queued]

    brief.refresh_from_db()
    assert brief.status == Brief.Status.CANCELLED and brief.status_reason == "Cancelled by Priya."
    assert after == [[], []]
    assert set(Take.objects.filter(shot__brief=brief).values_list("status", flat=True)) == {
        Take.Status.CANCELLED
    }
    assert not any(take.media for take in Take.objects.filter(shot__brief=brief))
    with pytest.raises(pipeline.InvalidTransitionError):
        pipeline.cancel_brief(brief_id=brief.pk, reason="again")


def test_a_second_worker_cannot_claim_a_leased_step(local_ai, harbour):
    brief = BriefFactory(ip=harbour)
    Brief.objects.filter(pk=brief.pk).update(
        status=Brief.Status.RETRIEVING,
        lease_owner="worker-a",
        lease_expires_at=timezone.now() + timedelta(minutes=5),
    )

    assert pipeline.run_step("retrieve", brief.pk, owner="worker-b") == []
    assert not brief.handoffs.exists()
    assert pipeline.sweep_expired_leases() == []


def test_sweeper_frees_an_expired_lease_and_the_step_reruns(local_ai, harbour):
    brief = BriefFactory(ip=harbour)
    Brief.objects.filter(pk=brief.pk).update(
        status=Brief.Status.RETRIEVING,
        lease_owner="dead-worker",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )

    swept = pipeline.sweep_expired_leases()
    next_steps = pipeline.run_step("retrieve", brief.pk, owner="worker-b")

    assert swept == [pipeline.NextStep("retrieve", brief.pk)]
    assert pipeline.sweep_expired_leases() == []  # freed rows get a fresh deadline
    assert next_steps == [pipeline.NextStep("plan", brief.pk)]
    assert brief.handoffs.get().worker == "worker-b"


class PassingCritic:
    """Approves whatever it sees: for tests about something other than the critic."""

    model = "local-critic-1"

    def critique(self, **kwargs):
        return Critique(score=0.9, reasons=("fine",), model=self.model)


def test_a_rerun_after_a_crash_reuses_the_operation_of_the_same_idempotency_key(local_ai, harbour):
    brief = BriefFactory(ip=harbour, shot_count=1)
    pipeline.run_step("retrieve", brief.pk, owner="w1")
    [step] = pipeline.run_step("plan", brief.pk, owner="w1")
    take = Take.objects.get(pk=step.object_id)
    generator = local.LocalGenerator(local_ai.LOCAL_OPS_DIR)
    # The crashed worker started the operation but died before saving its id.
    first_op = generator.start(
        GenerationRequest(
            prompt=take.prompt,
            negative_prompt="",
            camera="static",
            duration_s=4,
            aspect_ratio="16:9",
            seed=take.seed,
            palette=(),
            reference_images=(),
            idempotency_key=str(take.idempotency_key),
            sound=brief.sound,
            audio=take.audio,
        )
    )
    rendered = (local_ai.LOCAL_OPS_DIR / f"{first_op}.mp4").stat().st_mtime_ns

    # The stand-in render has no palette, which the critic would rightly fault.
    providers = pipeline.Providers(generator=generator, critic=PassingCritic())
    pipeline.run_inline(brief.pk, providers=providers)

    take.refresh_from_db()
    assert take.operation_id == first_op
    assert (local_ai.LOCAL_OPS_DIR / f"{first_op}.mp4").stat().st_mtime_ns == rendered
    assert take.status == Take.Status.READY and take.attempts == 1, take.status_reason
    assert len(list(local_ai.LOCAL_OPS_DIR.glob("*.mp4"))) == 1


# --- review entry points ------------------------------------------------------------------------
def _brief_in_review(shots: int = 2) -> Brief:
    brief = BriefFactory(shot_count=shots, status=Brief.Status.IN_REVIEW)
    for order in range(1, shots + 1):
        TakeFactory(shot=ShotFactory(brief=brief, order=order))
    return brief


def test_approving_every_current_take_completes_the_brief(db):
    brief = _brief_in_review(shots=2)
    first, second = Take.objects.filter(shot__brief=brief).order_by("shot__order")

    pipeline.record_take_verdict(take_id=first.pk, expected_version=1, verdict="approved")
    brief.refresh_from_db()
    assert brief.status == Brief.Status.IN_REVIEW
    assert brief.status_reason == "1 of 2 shot(s) approved."
    taken = pipeline.record_take_verdict(take_id=second.pk, expected_version=1, verdict="approved")

    brief.refresh_from_db()
    assert taken.version == 2 and taken.status == Take.Status.APPROVED
    assert brief.status == Brief.Status.COMPLETED and brief.completed_at is not None
    assert set(brief.shots.values_list("status", flat=True)) == {Shot.Status.APPROVED}
    assert brief.handoffs.filter(step="review", outcome="passed").count() == 2


def test_a_verdict_on_a_stale_version_says_what_the_other_person_did(db):
    brief = _brief_in_review(shots=1)
    take = Take.objects.get(shot__brief=brief)
    pipeline.record_take_verdict(
        take_id=take.pk, expected_version=1, verdict="rejected", reason="Off model"
    )

    with pytest.raises(pipeline.StaleTakeError) as caught:
        pipeline.record_take_verdict(take_id=take.pk, expected_version=1, verdict="approved")

    assert caught.value.take.status == Take.Status.REJECTED
    assert caught.value.take.version == 2
    assert "it is now rejected" in str(caught.value)
    assert Shot.objects.get(pk=take.shot_id).status == Shot.Status.REJECTED


def test_start_new_take_adds_a_current_take_and_generates_it_after_commit(
    local_ai, django_capture_on_commit_callbacks
):
    brief = _brief_in_review(shots=1)
    old = Take.objects.get(shot__brief=brief)
    user = director()

    with django_capture_on_commit_callbacks() as callbacks:
        new = pipeline.start_new_take(
            shot_id=old.shot_id,
            prompt="Closer on the lantern",
            negative_prompt="",
            reference_ids=[],
            user=user,
            parent_take_id=old.pk,
        )

    old.refresh_from_db()
    assert (new.number, new.is_current, new.parent_id) == (2, True, old.pk)
    assert not old.is_current and old.status == Take.Status.READY
    assert len(callbacks) == 1
    assert Brief.objects.get(pk=brief.pk).status == Brief.Status.GENERATING
    assert Shot.objects.get(pk=old.shot_id).status == Shot.Status.GENERATING

    restored = pipeline.set_current_take(take_id=old.pk)
    assert restored.is_current and not Take.objects.get(pk=new.pk).is_current
    assert Shot.objects.get(pk=old.shot_id).status == Shot.Status.READY


def test_start_new_take_refuses_to_exceed_the_budget_cap(db, settings):
    settings.AI_PROVIDER = "gemini"
    settings.GEMINI_API_KEY = "dummy"
    brief = _brief_in_review(shots=1)
    Brief.objects.filter(pk=brief.pk).update(budget_cap=Decimal("2.00"), spent=Decimal("1.60"))
    take = Take.objects.get(shot__brief=brief)

    with pytest.raises(pipeline.BudgetExceededError, match=r"exceed the budget cap of \$2\.00"):
        pipeline.start_new_take(
            shot_id=take.shot_id,
            prompt="again",
            negative_prompt="",
            reference_ids=[],
            user=director(),
            parent_take_id=take.pk,
        )
    assert Take.objects.filter(shot_id=take.shot_id).count() == 1


def test_handoffs_record_latency_model_and_worker(local_ai, harbour):
    brief = pipeline.run_inline(BriefFactory(ip=harbour, shot_count=1).pk, owner="bench-1")

    generate = brief.handoffs.get(step=Handoff.Step.GENERATE)
    assert generate.model == "local-renderer-1" and generate.worker == "bench-1"
    assert generate.latency_ms > 0 and generate.finished_at >= generate.started_at
    assert brief.handoffs.get(step=Handoff.Step.CHECK).model == "local-critic-1"


class CrashingCritic:
    model = "local-crashing-critic"

    def critique(self, **kwargs):
        raise RuntimeError("critic bug")


class GarbageGenerator:
    model = "local-garbage"

    def start(self, request):
        return "garbage-1"

    def poll(self, operation_id):
        from studio.ai.types import GenerationStatus

        return GenerationStatus(done=True, operation_id=operation_id, video=b"not a video")


def test_a_crashing_step_is_retried_a_bounded_number_of_times_then_routed(
    local_ai, harbour, settings
):
    settings.PIPELINE_MAX_ATTEMPTS = 2
    brief = BriefFactory(ip=harbour, shot_count=1)

    brief = pipeline.run_inline(brief.pk, providers=pipeline.Providers(critic=CrashingCritic()))

    take = Take.objects.get(shot__brief=brief)
    assert take.status == Take.Status.ROUTED and take.lease_owner == ""
    assert "check kept failing after 2 attempts: critic bug" in take.status_reason
    assert brief.status == Brief.Status.IN_REVIEW
    assert list(take.handoffs.filter(step="check").values_list("outcome", flat=True)) == [
        "retried",
        "routed",
    ]


def test_an_undecodable_clip_from_the_generator_is_routed_not_stored(local_ai, harbour, settings):
    settings.PIPELINE_AUTO_RETAKES = 0
    brief = BriefFactory(ip=harbour, shot_count=1)

    brief = pipeline.run_inline(
        brief.pk, providers=pipeline.Providers(generator=GarbageGenerator())
    )

    take = Take.objects.get(shot__brief=brief)
    assert take.status == Take.Status.ROUTED and not take.media
    assert take.status_reason.startswith("the generator returned no usable clip")


def test_retry_failed_gives_routed_shots_a_new_take_and_runs_them_again(local_ai, harbour):
    brief = BriefFactory(ip=harbour, shot_count=1)
    pipeline.run_inline(
        brief.pk, providers=pipeline.Providers(critic=CrashingCritic()), owner="first"
    )
    user = brief.producer

    pipeline.retry_failed(brief_id=brief.pk, user=user)
    brief = pipeline.run_inline(brief.pk)

    shot = brief.shots.get()
    latest = shot.takes.get(is_current=True)
    assert (latest.number, latest.created_by, latest.status) == (2, user, Take.Status.READY)
    assert shot.status == Shot.Status.READY
    assert brief.status == Brief.Status.IN_REVIEW
    with pytest.raises(pipeline.InvalidTransitionError, match="No shot has failed"):
        pipeline.retry_failed(brief_id=brief.pk, user=user)


def test_retry_failed_after_a_routed_retrieval_runs_the_brief_from_the_start(local_ai):
    ip = IPFactory()
    brief = pipeline.run_inline(BriefFactory(ip=ip).pk)
    assert brief.status == Brief.Status.NEEDS_ATTENTION
    embedded_asset(ip=ip, title="Lantern keeper", description="the lantern keeper walks the pier")

    pipeline.retry_failed(brief_id=brief.pk, user=brief.producer)
    brief = pipeline.run_inline(brief.pk)

    assert brief.status == Brief.Status.IN_REVIEW
    assert list(brief.handoffs.filter(step="retrieve").values_list("outcome", flat=True)) == [
        "routed",
        "passed",
    ]


def test_an_automatic_approval_is_logged_as_auto_approved_by_its_actor(db):
    brief = _brief_in_review(shots=1)
    take = Take.objects.get(shot__brief=brief)

    pipeline.record_take_verdict(
        take_id=take.pk,
        expected_version=1,
        verdict="approved",
        actor="autonomy:policy-1",
        automatic=True,
    )

    handoff = brief.handoffs.get(step="review")
    assert (handoff.outcome, handoff.worker) == ("auto_approved", "autonomy:policy-1")
    assert Brief.objects.get(pk=brief.pk).status == Brief.Status.COMPLETED


def test_a_permanent_search_failure_routes_the_brief_at_once_with_its_reason(local_ai, harbour):
    brief = BriefFactory(ip=harbour, shot_count=1)
    local_ai.AI_FAULTS = {"embed": {"error": 1.0}}

    brief = pipeline.run_inline(brief.pk)

    assert brief.status == Brief.Status.NEEDS_ATTENTION
    assert "reference search failed" in brief.status_reason
    (handoff,) = brief.handoffs.filter(step="retrieve")
    assert handoff.outcome == Handoff.Outcome.ROUTED
    failed = [c["name"] for c in handoff.detail["checks"] if not c["passed"]]
    assert "search" in failed and "pinned_rights" not in failed
