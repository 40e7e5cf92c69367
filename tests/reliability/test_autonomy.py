"""The autonomy state machine: shadow predictions, earned promotion, sampling and suspension."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from briefs.models import Handoff, Shot, Take
from reliability import autonomy
from reliability.models import AutonomyPolicy, PolicyEvent, ShadowPrediction
from review import services
from tests.factories.reliability import PolicyFactory, ready_shot_take
from tests.factories.retrieval import IPFactory
from tests.factories.users import catalog_admin, director, lead_director, superuser

Mode = AutonomyPolicy.Mode


class Draws:
    """A random source that returns the given numbers in order."""

    def __init__(self, *values: float) -> None:
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


@pytest.fixture
def events(monkeypatch):
    sent = []
    monkeypatch.setattr(autonomy, "emit_event", lambda name, payload: sent.append(name))
    return sent


def decide(take, user, verdict, captured, reason_code=""):
    """Record a director's verdict through the review service and run its after-commit work."""
    take.refresh_from_db()
    with captured(execute=True):
        services.decide(
            take=take,
            user=user,
            verdict=verdict,
            expected_version=take.version,
            reason_code=reason_code,
        )


def agreed_history(policy, count: int, *, agreed: bool = True) -> None:
    """Give a policy `count` predictions a human already decided."""
    for _ in range(count):
        ShadowPrediction.objects.create(
            take=ready_shot_take(),
            policy=policy,
            route=ShadowPrediction.Route.SHADOW,
            predicted="approved",
            human_verdict="approved" if agreed else "rejected",
            agreed=agreed,
            decided_at=timezone.now(),
        )


def test_wilson_lower_bound_matches_hand_computed_values():
    assert autonomy.wilson_lower_bound(50, 50, z=1.96) == pytest.approx(0.92865, abs=1e-4)
    assert autonomy.wilson_lower_bound(5, 5, z=1.96) == pytest.approx(0.56551, abs=1e-4)
    assert autonomy.wilson_lower_bound(4, 5, z=1.96) == pytest.approx(0.37553, abs=1e-4)
    assert autonomy.wilson_lower_bound(0, 0) is None


def test_without_a_policy_or_in_manual_a_person_decides_and_nothing_is_predicted(db):
    take = ready_shot_take()
    assert autonomy.on_take_ready(take) == autonomy.Outcome.HUMAN

    PolicyFactory(mode=Mode.MANUAL)
    assert autonomy.on_take_ready(take) == autonomy.Outcome.HUMAN
    assert not ShadowPrediction.objects.exists()


def test_an_ip_policy_wins_over_the_policy_for_every_ip(db):
    take = ready_shot_take()
    PolicyFactory(mode=Mode.SHADOW)
    own = PolicyFactory(ip=take.shot.brief.ip, mode=Mode.MANUAL)

    assert autonomy.policy_for(take) == own
    assert autonomy.on_take_ready(take) == autonomy.Outcome.HUMAN


def test_shadow_predicts_people_decide_and_agreement_earns_promotion(
    db, django_capture_on_commit_callbacks, events
):
    lead = lead_director(email="lead@studio.example")
    catalog_admin(email="catalog@studio.example")
    ada = director()
    policy = PolicyFactory(mode=Mode.SHADOW, min_decisions=35, bar=0.9)
    agreed_history(policy, 30)
    takes = [ready_shot_take(confidence=0.9) for _ in range(5)]

    outcomes = [autonomy.on_take_ready(take) for take in takes]
    for take in takes[:4]:
        decide(take, ada, "approved", django_capture_on_commit_callbacks)

    assert outcomes == [autonomy.Outcome.SHADOW] * 5
    assert all(
        t.status == Take.Status.APPROVED
        for t in Take.objects.filter(pk__in=[t.pk for t in takes[:4]])
    )
    policy.refresh_from_db()
    assert policy.mode == Mode.SHADOW  # 34 of N = 35 decisions: not enough evidence yet

    decide(takes[4], ada, "approved", django_capture_on_commit_callbacks)

    policy.refresh_from_db()
    assert policy.mode == Mode.AUTO
    promoted = policy.events.get(kind=PolicyEvent.Kind.PROMOTED)
    assert promoted.actor is None and promoted.evidence["agreed"] == 35
    assert "lower bound 0.901" in policy.status_reason
    assert events == ["autonomy.promoted"]
    # The people who may set policies hear of it, not the catalog admins.
    assert mail.outbox[-1].to == [lead.email]
    assert "promoted" in mail.outbox[-1].subject.lower()


def test_a_disagreement_in_shadow_keeps_the_policy_below_the_bar(
    db, django_capture_on_commit_callbacks
):
    ada = director()
    policy = PolicyFactory(mode=Mode.SHADOW, min_decisions=35, bar=0.9)
    agreed_history(policy, 34)
    take = ready_shot_take(confidence=0.95)
    autonomy.on_take_ready(take)

    decide(take, ada, "rejected", django_capture_on_commit_callbacks, reason_code="artefacts")

    prediction = ShadowPrediction.objects.get(take=take)
    assert (prediction.predicted, prediction.human_verdict, prediction.agreed) == (
        "approved",
        "rejected",
        False,
    )
    policy.refresh_from_db()
    assert policy.mode == Mode.SHADOW
    assert autonomy.agreement(policy).lower_bound == pytest.approx(0.85467, abs=1e-4)


def test_auto_approves_samples_audits_and_leaves_predicted_rejections_to_people(db):
    policy = PolicyFactory(mode=Mode.AUTO, sample_rate=0.25, threshold=0.8)
    confident, sampled, doubtful = (ready_shot_take(confidence=c) for c in (0.9, 0.9, 0.5))

    rng = Draws(0.90, 0.10)
    assert autonomy.on_take_ready(confident, rng=rng) == autonomy.Outcome.AUTO_APPROVED
    assert autonomy.on_take_ready(sampled, rng=rng) == autonomy.Outcome.AUDIT
    assert autonomy.on_take_ready(doubtful, rng=rng) == autonomy.Outcome.HUMAN

    confident.refresh_from_db()
    assert confident.status == Take.Status.APPROVED
    assert confident.shot.status == Shot.Status.APPROVED
    handoff = Handoff.objects.get(take=confident, step=Handoff.Step.REVIEW)
    assert handoff.outcome == Handoff.Outcome.AUTO_APPROVED
    assert handoff.worker == f"autonomy:policy-{policy.pk}"
    assert "Auto-approved" in confident.status_reason
    assert Take.objects.get(pk=sampled.pk).status == Take.Status.READY
    assert Take.objects.get(pk=doubtful.pk).status == Take.Status.READY
    assert autonomy.auto_approved_take_ids([confident.pk, sampled.pk]) == {confident.pk}
    # A second call changes nothing: the take is approved once.
    assert autonomy.on_take_ready(confident, rng=Draws(0.9)) == autonomy.Outcome.HUMAN
    assert Handoff.objects.filter(take=confident, step=Handoff.Step.REVIEW).count() == 1


def test_an_audit_that_disagrees_beyond_the_bound_suspends_and_tells_the_admins(
    db, django_capture_on_commit_callbacks, events
):
    lead = lead_director(email="ops@studio.example")
    ada = director()
    policy = PolicyFactory(mode=Mode.AUTO, min_decisions=35, bar=0.9, sample_rate=0.25)
    agreed_history(policy, 34)
    audited = ready_shot_take(confidence=0.9)
    assert autonomy.on_take_ready(audited, rng=Draws(0.0)) == autonomy.Outcome.AUDIT

    decide(audited, ada, "rejected", django_capture_on_commit_callbacks, reason_code="off_brand")

    policy.refresh_from_db()
    assert policy.mode == Mode.SUSPENDED
    suspended = policy.events.get(kind=PolicyEvent.Kind.SUSPENDED)
    assert (suspended.from_mode, suspended.to_mode, suspended.actor) == ("auto", "suspended", None)
    assert "below the bar" in suspended.note
    assert events == ["autonomy.suspended"]
    assert mail.outbox[-1].to == [lead.email]
    # Suspended: people decide everything again.
    assert autonomy.on_take_ready(ready_shot_take(), rng=Draws(0.9)) == autonomy.Outcome.HUMAN


def test_reversing_an_automatic_approval_counts_as_a_disagreement(
    db, django_capture_on_commit_callbacks, events
):
    ada = director()
    policy = PolicyFactory(mode=Mode.AUTO, min_decisions=35, bar=0.9, sample_rate=0.0)
    agreed_history(policy, 34)
    take = ready_shot_take(confidence=0.9)
    assert autonomy.on_take_ready(take, rng=Draws(0.5)) == autonomy.Outcome.AUTO_APPROVED

    decide(take, ada, "rejected", django_capture_on_commit_callbacks, reason_code="continuity")

    take.refresh_from_db()
    assert take.status == Take.Status.REJECTED
    assert ShadowPrediction.objects.get(take=take).agreed is False
    policy.refresh_from_db()
    assert policy.mode == Mode.SUSPENDED


def test_admins_cannot_skip_shadow_or_promote_without_evidence_and_every_edit_is_audited(db):
    admin = lead_director()
    policy = autonomy.policy_create(user=admin, min_decisions=35, bar=0.9)

    with pytest.raises(autonomy.AutonomyError, match="shadow first"):
        autonomy.policy_update(policy=policy, user=admin, mode=Mode.AUTO)
    autonomy.policy_update(policy=policy, user=admin, mode=Mode.SHADOW, note="start measuring")
    with pytest.raises(autonomy.AutonomyError, match="Not earned yet: 0 of 0"):
        autonomy.policy_update(policy=policy, user=admin, mode=Mode.AUTO)

    agreed_history(policy, 35)
    autonomy.policy_update(policy=policy, user=admin, mode=Mode.AUTO, sample_rate=0.2)

    policy.refresh_from_db()
    assert (policy.mode, policy.sample_rate, policy.updated_by) == (Mode.AUTO, 0.2, admin)
    trail = list(autonomy.policy_trail(policy).values_list("kind", "from_mode", "to_mode"))
    assert trail == [
        ("changed", "shadow", "auto"),
        ("changed", "manual", "shadow"),
        ("created", "", "manual"),
    ]
    last = policy.events.first()
    assert last.changes == {"mode": ["shadow", "auto"], "sample_rate": [0.1, 0.2]}
    assert last.actor == admin


def test_the_pipeline_hands_each_ready_take_to_its_earned_policy(db, settings, tmp_path):
    from briefs import pipeline
    from briefs.models import Brief, Handoff, Take
    from tests.factories.briefs import BriefFactory
    from tests.factories.retrieval import IPFactory, embedded_asset

    settings.AI_PROVIDER, settings.AI_FAULTS = "local", {}
    settings.LOCAL_OPS_DIR = tmp_path / "ops"
    ip = IPFactory()
    embedded_asset(ip=ip, title="Lantern keeper on the pier", description="the lantern keeper")
    embedded_asset(ip=ip, title="Tide over stones", description="the tide over harbour stones")
    PolicyFactory(mode=Mode.AUTO, sample_rate=0.0, threshold=0.0)

    brief = pipeline.run_inline(BriefFactory(ip=ip, shot_count=2).pk)

    take_statuses = set(Take.objects.filter(shot__brief=brief).values_list("status", flat=True))
    assert take_statuses == {Take.Status.APPROVED}
    assert brief.handoffs.filter(outcome=Handoff.Outcome.AUTO_APPROVED).count() == 2
    brief.refresh_from_db()
    assert brief.status == Brief.Status.COMPLETED


@pytest.mark.parametrize("make_user", [catalog_admin, director])
def test_given_a_catalog_admin_or_plain_director_when_setting_a_policy_then_refused(db, make_user):
    user = make_user()
    policy = PolicyFactory(mode=Mode.MANUAL)

    with pytest.raises(PermissionDenied):
        autonomy.policy_create(user=user, ip=IPFactory())
    with pytest.raises(PermissionDenied):
        autonomy.policy_update(policy=policy, user=user, mode=Mode.SHADOW)

    policy.refresh_from_db()
    assert policy.mode == Mode.MANUAL and AutonomyPolicy.objects.count() == 1


@pytest.mark.parametrize("make_user", [lead_director, superuser])
def test_given_a_lead_director_or_superuser_when_creating_a_policy_then_it_is_saved(db, make_user):
    policy = autonomy.policy_create(user=make_user())

    assert AutonomyPolicy.objects.get() == policy


@pytest.mark.parametrize(
    ("numbers", "message"),
    [
        ({"min_decisions": 29}, "N must be at least 30 decisions."),
        ({"bar": 0.89}, "The bar must be between 0.9 and 1."),
        ({"bar": 1.01}, "The bar must be between 0.9 and 1."),
    ],
)
def test_given_numbers_below_the_floors_when_setting_a_policy_then_refused(db, numbers, message):
    lead = lead_director()
    policy = PolicyFactory(mode=Mode.MANUAL)

    with pytest.raises(autonomy.AutonomyError, match=message):
        autonomy.policy_create(user=lead, ip=IPFactory(), **numbers)
    with pytest.raises(autonomy.AutonomyError, match=message):
        autonomy.policy_update(policy=policy, user=lead, **numbers)


@pytest.mark.parametrize(
    ("numbers", "name"),
    [
        ({"min_decisions": 1}, "autonomy_min_decisions_at_least_30"),
        ({"bar": 0.5}, "autonomy_bar_at_least_0_9"),
    ],
)
def test_given_numbers_below_the_floors_when_saved_directly_then_the_schema_refuses(
    db, numbers, name
):
    with pytest.raises(IntegrityError, match=name), transaction.atomic():
        PolicyFactory(**numbers)


def test_the_django_admin_offers_no_way_around_the_lead_permission():
    from django.contrib import admin

    # Policies change only through policy_create/policy_update, which check the lead permission.
    assert AutonomyPolicy not in admin.site._registry
    assert PolicyEvent not in admin.site._registry


@pytest.mark.parametrize(
    ("numbers", "message"),
    [
        (
            {"min_decisions": 30, "bar": 0.9},
            "lower bound of 0.886, below the bar of 0.900: raise N to at least 35",
        ),
        ({"min_decisions": 50, "bar": 0.95}, "raise N to at least 73"),
        ({"min_decisions": 500, "bar": 1.0}, "no number of decisions reaches a bar of 1"),
    ],
)
def test_given_a_bar_perfect_agreement_cannot_reach_when_setting_a_policy_then_refused(
    db, numbers, message
):
    with pytest.raises(autonomy.AutonomyError, match=message):
        autonomy.policy_create(user=lead_director(), **numbers)

    assert not AutonomyPolicy.objects.exists()
