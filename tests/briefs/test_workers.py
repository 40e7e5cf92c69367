"""Real Celery workers: a worker killed mid-step loses its message; the lease brings it back."""

import time

from briefs import pipeline, tasks
from briefs.models import Brief, Handoff, Take
from tests.factories.briefs import BriefFactory
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
