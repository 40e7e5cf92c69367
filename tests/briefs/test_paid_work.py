"""Money and lost work: no paid render starts twice, nothing waits forever, nothing leaks."""

import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import DataError, connection
from django.utils import timezone

from briefs import pipeline, services
from briefs.models import Brief, Shot, Take
from briefs.pipeline.leases import renewed_lease
from review import services as review_services
from studio.ai import local
from studio.ai.types import TransientProviderError
from tests.factories.briefs import BriefFactory, ShotFactory
from tests.factories.retrieval import AssetFactory, IPFactory, RightsFactory, embedded_asset
from tests.factories.review import board_brief
from tests.factories.users import director, producer

VEO = "veo-3.1-generate-preview"  # priced per second, like the real thing


class WorkerDied(BaseException):
    """Stands for a SIGKILL: nothing after it in the step runs, no handler sees it."""


class PaidGenerator:
    """A Veo-like generator: every start() is a new paid job (no idempotency key)."""

    model = VEO
    start_is_idempotent = False

    def __init__(self, workdir, *, fail_first_with: BaseException | None = None) -> None:
        self.inner = local.LocalGenerator(workdir)
        self.jobs: list[str] = []
        self.fail_first_with = fail_first_with

    def start(self, request):
        if isinstance(self.fail_first_with, TransientProviderError):
            error, self.fail_first_with = self.fail_first_with, None
            if error.may_have_run:
                self.jobs.append(request.idempotency_key)
            raise error
        self.jobs.append(request.idempotency_key)
        if self.fail_first_with is not None:
            error, self.fail_first_with = self.fail_first_with, None
            raise error
        return self.inner.start(request)

    def poll(self, operation_id):
        return self.inner.poll(operation_id)


@pytest.fixture
def planned_take(local_ai):
    """A brief planned by the local planner, its one take waiting for generation."""
    ip = IPFactory()
    embedded_asset(ip=ip, title="Lantern keeper", description="the lantern keeper walks the pier")
    brief = BriefFactory(ip=ip, shot_count=1)
    for step in ("retrieve", "plan"):
        pipeline.run_step(step, brief.pk, owner="planner")
    return Take.objects.get(shot__brief=brief)


def run_with(take: Take, generator) -> None:
    pipeline.run_inline(take.shot.brief_id, providers=pipeline.Providers(generator=generator))


def _expire_leases() -> None:
    Take.objects.update(lease_expires_at=timezone.now())
    Brief.objects.update(lease_expires_at=timezone.now())


def test_a_worker_dying_between_start_and_saving_the_operation_never_pays_twice(
    planned_take, tmp_path
):
    # Given a worker that died right after Veo accepted the job, before saving its name
    generator = PaidGenerator(tmp_path / "veo", fail_first_with=WorkerDied())
    providers = pipeline.Providers(generator=generator)
    with pytest.raises(WorkerDied):
        pipeline.run_step("generate", planned_take.pk, owner="dead", providers=providers)

    # When its lease expires and another worker resumes the step
    _expire_leases()
    steps = pipeline.sweep_expired_leases()
    for step in steps:
        pipeline.run_step(step.step, step.object_id, owner="alive", providers=providers)

    # Then no second job was started: the take goes to a person with the reason
    take = Take.objects.get(pk=planned_take.pk)
    assert generator.jobs == [str(take.idempotency_key)]
    assert take.status == Take.Status.ROUTED
    assert "A paid generation may already be running" in take.status_reason
    assert take.start_pending and take.billed_generations == 0
    brief = take.shot.brief
    assert brief.spent == take.cost == Decimal("1.60") and brief.reserved == 0


def test_a_refused_start_clears_the_intent_and_the_retry_pays_once(planned_take, tmp_path):
    generator = PaidGenerator(
        tmp_path / "veo", fail_first_with=TransientProviderError("429 quota", retry_after=0)
    )

    pipeline.run_inline(
        planned_take.shot.brief_id, providers=pipeline.Providers(generator=generator)
    )

    take = Take.objects.get(pk=planned_take.pk)
    assert take.status == Take.Status.READY
    assert generator.jobs == [str(take.idempotency_key)]
    assert (take.billed_generations, take.start_pending, take.attempts) == (1, False, 2)


def test_a_start_whose_answer_was_lost_is_not_started_again(planned_take, tmp_path):
    lost = TransientProviderError("transport: ReadTimeout", may_have_run=True)
    generator = PaidGenerator(tmp_path / "veo", fail_first_with=lost)

    pipeline.run_inline(
        planned_take.shot.brief_id, providers=pipeline.Providers(generator=generator)
    )

    take = Take.objects.get(pk=planned_take.pk)
    assert len(generator.jobs) == 1
    assert take.status == Take.Status.ROUTED and take.start_pending
    assert "may already be running" in take.status_reason


def test_a_normal_take_counts_one_billed_generation(planned_take, tmp_path):
    generator = PaidGenerator(tmp_path / "veo")

    pipeline.run_inline(
        planned_take.shot.brief_id, providers=pipeline.Providers(generator=generator)
    )

    take = Take.objects.get(pk=planned_take.pk)
    assert (take.status, take.billed_generations, take.start_pending) == ("ready", 1, False)


def test_the_board_shows_the_billed_generations_of_a_take(db, client):
    brief = board_brief(shots=1)
    Take.objects.filter(shot__brief=brief).update(billed_generations=1, start_pending=True)
    client.force_login(director())

    page = client.get(f"/review/briefs/{brief.pk}/").content.decode()

    assert "1 paid render" in page and "1 unconfirmed" in page


@pytest.mark.django_db(transaction=True)
def test_a_long_step_keeps_renewing_its_lease(settings):
    settings.PIPELINE_LEASE_SECONDS = 1
    take = ShotFactory().takes.create(number=1, prompt="p", status=Take.Status.GENERATING)
    Take.objects.filter(pk=take.pk).update(
        lease_owner="me", lease_expires_at=timezone.now() + pipeline_lease()
    )
    first = Take.objects.get(pk=take.pk).lease_expires_at

    with renewed_lease(Take, take.pk, owner="me"):
        time.sleep(1.3)  # longer than the lease itself
        renewed = Take.objects.get(pk=take.pk).lease_expires_at

    assert renewed > first and renewed > timezone.now()
    assert connection.vendor == "postgresql"


def pipeline_lease():
    from briefs.pipeline.leases import lease_seconds

    return lease_seconds()


def test_a_new_brief_has_a_pickup_deadline_so_a_lost_first_message_is_swept(local_ai):
    ip = IPFactory()
    brief = services.brief_submit(
        producer=producer(),
        ip=ip,
        title="Harbour",
        beat="The keeper walks the pier.",
        tone="calm",
        shot_count=1,
        aspect_ratio="16:9",
        seconds_per_shot=4,
        territory="GB",
        release_date=timezone.localdate(),
    )
    assert brief.status == Brief.Status.QUEUED and brief.lease_expires_at is not None

    _expire_leases()

    assert pipeline.sweep_expired_leases() == [pipeline.NextStep("retrieve", brief.pk)]


def test_a_waiting_row_without_any_deadline_is_still_swept(db):
    brief = BriefFactory(status=Brief.Status.QUEUED, lease_expires_at=None)
    Brief.objects.filter(pk=brief.pk).update(updated_at=timezone.now() - pipeline_lease() * 2)

    assert pipeline.sweep_expired_leases() == [pipeline.NextStep("retrieve", brief.pk)]


def test_a_planner_field_longer_than_its_column_is_clamped_not_a_crash(planned_take, tmp_path):
    ip = IPFactory()
    embedded_asset(ip=ip, title="Lantern keeper", description="the lantern keeper walks the pier")
    brief = BriefFactory(ip=ip, shot_count=1)

    class LongCameraPlanner(local.LocalPlanner):
        def plan(self, request):
            answer = super().plan(request)
            shots = [type(s)(**{**s.__dict__, "camera": "slow dolly " * 40}) for s in answer.shots]
            return type(answer)(**{**answer.__dict__, "shots": tuple(shots)})

    brief = pipeline.run_inline(brief.pk, providers=pipeline.Providers(planner=LongCameraPlanner()))

    shot = Shot.objects.get(brief=brief)
    assert len(shot.camera) == 200 and shot.camera.endswith("…")
    assert brief.status == Brief.Status.IN_REVIEW


def test_a_write_the_database_refuses_is_routed_with_its_reason_not_looped(local_ai, settings):
    settings.PIPELINE_MAX_ATTEMPTS = 2
    ip = IPFactory()
    embedded_asset(ip=ip, title="Lantern keeper", description="the lantern keeper walks the pier")
    brief = BriefFactory(ip=ip, shot_count=1)

    class RefusedCritic:
        model = "local-critic-1"

        def critique(self, **kwargs):
            raise DataError("value too long for type character varying(200)")

    brief = pipeline.run_inline(brief.pk, providers=pipeline.Providers(critic=RefusedCritic()))

    take = Take.objects.get(shot__brief=brief)
    assert take.status == Take.Status.ROUTED and take.lease_owner == ""
    assert "value too long" in take.status_reason
    assert brief.handoffs.filter(step="check").count() == 2


def test_a_take_cancelled_on_the_generate_path_releases_its_reservation(planned_take):
    Take.objects.filter(pk=planned_take.pk).update(reserved_cost=Decimal("1.60"))
    Brief.objects.filter(pk=planned_take.shot.brief_id).update(
        status=Brief.Status.FAILED, reserved=Decimal("1.60")
    )

    pipeline.run_step("generate", planned_take.pk, owner="w")

    take = Take.objects.select_related("shot__brief").get(pk=planned_take.pk)
    assert take.status == Take.Status.CANCELLED and take.reserved_cost == 0
    assert take.shot.brief.reserved == 0


def test_a_clip_stored_after_the_lease_was_lost_leaves_no_file(planned_take, tmp_path, settings):
    class LeaseStealingGenerator(local.LocalGenerator):
        def poll(self, operation_id):
            status = super().poll(operation_id)
            Take.objects.filter(pk=planned_take.pk).update(lease_owner="someone-else")
            return status

    media_root = Path(settings.MEDIA_ROOT)
    files_before = set(media_root.rglob("*"))

    pipeline.run_step(
        "generate",
        planned_take.pk,
        owner="me",
        providers=pipeline.Providers(generator=LeaseStealingGenerator(tmp_path / "ops2")),
    )

    take = Take.objects.get(pk=planned_take.pk)
    assert take.status == Take.Status.GENERATING and not take.media
    assert {p for p in set(media_root.rglob("*")) - files_before if p.is_file()} == set()


def test_reprompting_a_shot_whose_take_is_still_generating_is_refused(db):
    brief = board_brief(shots=1)
    take = Take.objects.get(shot__brief=brief)
    lead = director()
    review_services.reprompt(
        take=take, user=lead, prompt="Again, warmer.", negative_prompt="", reference_ids=[]
    )

    with pytest.raises(review_services.ReviewError, match="still queued"):
        review_services.reprompt(
            take=take, user=lead, prompt="Again, warmer.", negative_prompt="", reference_ids=[]
        )

    assert Take.objects.filter(shot__brief=brief).count() == 2


def test_a_reprompt_cannot_send_a_reference_not_cleared_for_the_brief(db):
    brief = board_brief(shots=1, territory="GB")
    take = Take.objects.get(shot__brief=brief)
    french_only = AssetFactory(ip=brief.ip, title="Paris still")
    french_only.rights.delete()
    RightsFactory(asset=french_only, worldwide=False, territories=["FR"])

    with pytest.raises(review_services.ReviewError, match="“Paris still” is not cleared: "):
        review_services.reprompt(
            take=take,
            user=director(),
            prompt="Again.",
            negative_prompt="",
            reference_ids=[french_only.pk],
        )

    assert Take.objects.filter(shot__brief=brief).count() == 1


def test_the_reprompt_form_offers_only_cleared_references(db, client):
    brief = board_brief(shots=1, territory="GB")
    take = Take.objects.get(shot__brief=brief)
    french_only = AssetFactory(ip=brief.ip, title="Paris still")
    french_only.rights.delete()
    RightsFactory(asset=french_only, worldwide=False, territories=["FR"])
    take.references.add(french_only)
    client.force_login(director())

    page = client.get(f"/review/takes/{take.pk}/reprompt/").content.decode()

    assert f'name="references" value="{french_only.pk}"' not in page
    assert "Paris still" in page and "ref-blocked" in page
