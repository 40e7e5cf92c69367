"""Real Celery workers: a worker killed mid-step loses its message; the lease brings it back."""

import time

from briefs import pipeline, tasks
from briefs.models import Brief, ContinuityPair, Handoff, Take, TakeLook
from tests.factories.briefs import BriefFactory, ShotFactory
from tests.factories.retrieval import IPFactory, embedded_asset
from tests.workers import wait_until


def test_a_step_killed_mid_generation_reruns_on_another_worker_without_paying_twice(
    start_worker, tmp_path
):
    ip = IPFactory()
    embedded_asset(ip=ip, title="Lantern keeper", description="the lantern keeper walks the pier")
    brief = BriefFactory(ip=ip, shot_count=1)
    state = {"STUDIO_STATE_DIR": str(tmp_path), "PIPELINE_LEASE_SECONDS": "3"}
    ops = tmp_path / "local-ops"
    # Given a worker that stalls right after starting the take's render
    slow = start_worker(env=state | {"PIPELINE_STEP_DELAY_S": "60"})
    pipeline.enqueue([pipeline.NextStep("retrieve", brief.pk)])
    take = wait_until(
        lambda: Take.objects.filter(shot__brief=brief, attempts=1).first(),
        timeout=60,
        message="the first worker never started the take",
    )
    [rendered] = wait_until(lambda: list(ops.glob("*.mp4")), timeout=30)
    rendered_at = rendered.stat().st_mtime_ns

    # When it is killed mid-step (the broker forgets its message) and a new worker appears
    slow.kill_children()
    start_worker(env=state)
    time.sleep(3.5)  # let the dead worker's lease expire
    assert tasks.sweep_expired_leases() == 1

    # Then the brief finishes on the new worker with one take, rendered and billed once
    brief = wait_until(
        lambda: Brief.objects.filter(pk=brief.pk, status=Brief.Status.IN_REVIEW).first(),
        timeout=60,
        message="the brief did not reach review after the sweep",
    )
    take = Take.objects.get(shot__brief=brief)
    assert take.status == Take.Status.READY
    assert take.attempts == 2 and take.media
    assert list(ops.glob("*.mp4")) == [rendered]
    assert rendered.stat().st_mtime_ns == rendered_at
    generated = Handoff.objects.filter(brief=brief, step="generate", outcome="passed")
    assert generated.count() == 1
    assert brief.spent == take.cost == sum(h.cost for h in brief.handoffs.all())


def test_a_worker_killed_between_starting_veo_and_saving_the_operation_pays_once(
    start_worker, fake_gemini, tmp_path
):
    # Given a take waiting for Veo, and a worker that stalls right after Veo accepts the job
    shot = ShotFactory(brief=BriefFactory(status=Brief.Status.GENERATING, shot_count=1))
    take = Take.objects.create(
        shot=shot, number=1, prompt=shot.prompt, lease_expires_at=pipeline.pickup_deadline()
    )
    veo = {
        "STUDIO_STATE_DIR": str(tmp_path),
        "PIPELINE_LEASE_SECONDS": "3",
        "AI_PROVIDER": "gemini",
        "GEMINI_API_KEY": "test-key",
        "GEMINI_BASE_URL": fake_gemini.url,
    }
    slow = start_worker(env=veo | {"PIPELINE_STEP_DELAY_S": "60"})
    pipeline.enqueue([pipeline.NextStep("generate", take.pk)])
    wait_until(
        lambda: fake_gemini.received("predictLongRunning"),
        timeout=60,
        message="the worker never started the Veo job",
    )

    # When it is killed before saving the operation name, and another worker resumes the step
    slow.kill_children()
    start_worker(env=veo)
    time.sleep(3.5)  # let the dead worker's lease expire
    assert tasks.sweep_expired_leases() == 1

    # Then Veo was asked once, and the take waits for a person with the reason
    take = wait_until(
        lambda: Take.objects.filter(pk=take.pk, status=Take.Status.ROUTED).first(),
        timeout=60,
        message="the resumed step did not route the take",
    )
    assert len(fake_gemini.received("predictLongRunning")) == 1
    assert "A paid generation may already be running" in take.status_reason
    assert take.start_pending and not take.operation_id


def test_takes_ready_on_a_worker_are_measured_and_paired_for_continuity_by_the_worker(
    start_worker, tmp_path
):
    # Given a two-shot brief and a worker
    ip = IPFactory()
    embedded_asset(ip=ip, title="Lantern keeper", description="the lantern keeper walks the pier")
    embedded_asset(ip=ip, title="Tide over stones", description="the tide rolls over the stones")
    brief = BriefFactory(ip=ip, shot_count=2)
    start_worker(env={"STUDIO_STATE_DIR": str(tmp_path)})

    # When the pipeline runs it there, through the broker
    pipeline.enqueue([pipeline.NextStep("retrieve", brief.pk)])

    # Then, once both takes are ready, the check step's continuity task measured them and
    # scored the pair, with no one running it by hand
    pair = wait_until(
        lambda: ContinuityPair.objects.filter(brief=brief).first(),
        timeout=90,
        message="no continuity pair was scored",
    )
    takes = Take.objects.filter(shot__brief=brief, is_current=True)
    assert {pair.first_id, pair.second_id} == set(takes.values_list("pk", flat=True))
    assert TakeLook.objects.filter(take__in=takes).count() == 2
