"""Continuity across a brief's shots: the score, the routing of drift, and the idempotent task."""

import pytest
from django.core.files.base import ContentFile

from briefs.models import Brief, ContinuityPair, Handoff, Shot, Take, TakeLook
from briefs.pipeline import continuity
from briefs.qc import continuity as measure
from briefs.tasks import check_continuity as check_continuity_task
from tests.factories.briefs import (
    CONTINUITY_PALETTE,
    BriefFactory,
    ShotFactory,
    TakeFactory,
    character_clip,
    continuity_brief,
)
from tests.factories.retrieval import AssetFactory, IPFactory

pytestmark = pytest.mark.django_db

PALETTE = CONTINUITY_PALETTE


def current_takes(brief: Brief) -> list[Take]:
    return list(Take.objects.filter(shot__brief=brief).order_by("shot__order"))


def test_given_three_shots_of_one_look_when_checked_then_every_pair_keeps_within_its_limits():
    mira_brief = continuity_brief()
    takes = current_takes(mira_brief)

    run = continuity.check_continuity(mira_brief.pk)

    assert (run.measured, run.scored, run.routed) == (3, 3, ())
    pairs = list(ContinuityPair.objects.filter(brief=mira_brief))
    assert len(pairs) == 3
    for pair in pairs:
        assert not pair.drifted, pair
        assert pair.look is not None and [c.name for c in pair.characters.all()] == ["Mira"]
    for take in takes:
        take.refresh_from_db()
        assert take.status == Take.Status.READY
        assert all(f["name"] != "continuity" for f in take.checks)


def test_given_a_palette_shifted_take_when_checked_then_it_drifts_and_goes_to_a_human():
    mira_brief = continuity_brief(shifted=(3,))
    first, second, third = current_takes(mira_brief)

    run = continuity.check_continuity(mira_brief.pk)

    assert run.routed == (third.pk,)
    drifted = ContinuityPair.objects.filter(brief=mira_brief, drifted=True)
    assert {(p.first_id, p.second_id) for p in drifted} == {
        (first.pk, third.pk),
        (second.pk, third.pk),
    }
    palette_limit = measure.continuity_limits()["palette"]
    assert all(pair.palette > palette_limit for pair in drifted)
    third.refresh_from_db()
    assert third.status == Take.Status.ROUTED and third.checks_passed is False
    assert "continuity: drifts from 2 of 2 other shots" in third.status_reason
    finding = next(f for f in third.checks if f["name"] == "continuity")
    assert not finding["passed"] and "palette" in finding["reason"] and finding["end_s"] == 4.0
    assert third.shot.status == Shot.Status.NEEDS_HUMAN
    handoff = Handoff.objects.get(take=third, outcome=Handoff.Outcome.ROUTED)
    assert handoff.step == Handoff.Step.CHECK and "continuity" in handoff.reasons[0]
    for kept in (first, second):
        kept.refresh_from_db()
        assert kept.status == Take.Status.READY


def test_given_a_checked_brief_when_the_task_runs_again_then_nothing_is_done_twice():
    mira_brief = continuity_brief(shifted=(3,))
    third = current_takes(mira_brief)[2]
    continuity.check_continuity(mira_brief.pk)
    third.refresh_from_db()
    version = third.version

    again = check_continuity_task.apply(args=[mira_brief.pk]).get()

    assert again == {"measured": 0, "scored": 0, "routed": []}
    assert TakeLook.objects.filter(take__shot__brief=mira_brief).count() == 3
    assert ContinuityPair.objects.filter(brief=mira_brief).count() == 3
    third.refresh_from_db()
    assert [f["name"] for f in third.checks].count("continuity") == 1
    assert third.version == version
    assert Handoff.objects.filter(take=third, outcome=Handoff.Outcome.ROUTED).count() == 1


def test_given_a_measured_take_then_its_keyframes_are_files_and_its_light_is_recorded():
    mira_brief = continuity_brief(shots=1)
    take = current_takes(mira_brief)[0]

    continuity.measure_take(take)

    look = TakeLook.objects.get(take=take)
    assert len(look.keyframes) == 4
    times = [frame["time_s"] for frame in look.keyframes]
    assert times == sorted(times) and times[-1] <= 4.0
    for frame in look.keyframes:
        assert take.media.storage.exists(frame["name"])
    assert 0 < look.luminance < 100 and 1000 <= look.colour_temperature_k <= 25000
    assert abs(sum(share for _, share in look.palette) - 1) < 0.01
    assert list(look.reference_stray) == [str(mira_brief.shots.first().characters.get().pk)]


def test_given_an_approved_take_that_drifts_then_the_pair_shows_it_but_the_decision_stands():
    mira_brief = continuity_brief(shifted=(3,))
    third = current_takes(mira_brief)[2]
    Take.objects.filter(pk=third.pk).update(status=Take.Status.APPROVED)

    run = continuity.check_continuity(mira_brief.pk)

    assert run.routed == ()
    third.refresh_from_db()
    assert third.status == Take.Status.APPROVED
    assert ContinuityPair.objects.filter(second=third, drifted=True).count() == 2


def test_given_two_shots_with_no_shared_character_then_only_palette_and_light_are_scored():
    ip = IPFactory(palette=list(PALETTE))
    reference = AssetFactory(ip=ip)
    brief = BriefFactory(ip=ip, status=Brief.Status.IN_REVIEW, shot_count=2)
    for order in (1, 2):
        shot = ShotFactory(brief=brief, order=order)
        video = character_clip(reference.file.path, seed=order, camera="pan right")
        TakeFactory(shot=shot, video=video, media=ContentFile(video, name="take.mp4"))

    continuity.check_continuity(brief.pk)

    pair = ContinuityPair.objects.get(brief=brief)
    assert pair.look is None and pair.palette >= 0 and pair.light >= 0


def test_given_identical_looks_when_compared_then_every_part_is_zero():
    look = measure.Look(
        palette=(("#102030", 0.6), ("#f5b942", 0.4)),
        mean_colour="#5a6a70",
        luminance=43.0,
        light_colour="#e8dcc2",
    )

    score = measure.compare(look, look, a_reference=0.0, b_reference=0.0)

    assert score.parts() == {"look": 0.0, "palette": 0.0, "light": 0.0}
    assert not score.drifted


def test_given_daylight_grey_then_the_colour_temperature_is_near_6500_k():
    assert measure.colour_temperature_k((255, 255, 255)) == pytest.approx(6500, abs=100)
    assert measure.colour_temperature_k((255, 180, 110)) < 4000
    assert measure.colour_temperature_k((170, 200, 255)) > 9000
