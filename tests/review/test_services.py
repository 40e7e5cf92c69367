"""Decisions, notes, re-prompts and promotion, through review.services against real PostgreSQL."""

import base64
import json
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied

from briefs.models import Handoff, Shot, Take
from retrieval.models import Asset
from review import services
from review.models import Decision, Note
from tests.factories.retrieval import AssetFactory, RightsFactory
from tests.factories.review import board_brief
from tests.factories.users import catalog_director, director, producer

pytestmark = pytest.mark.django_db


def first_take(brief) -> Take:
    return Take.objects.select_related("shot__brief").get(shot__brief=brief, shot__order=1)


def test_approval_records_the_decision_and_moves_take_and_shot():
    brief = board_brief(shots=1, checklist=["on-model", "palette"])
    take, dana = first_take(brief), director(first_name="Dana")

    decision = services.decide(
        take=take,
        user=dana,
        verdict="approved",
        expected_version=take.version,
        checklist={"on-model": True},
    )

    take.refresh_from_db()
    assert take.status == Take.Status.APPROVED
    assert take.shot.__class__.objects.get(pk=take.shot_id).status == Shot.Status.APPROVED
    assert decision.applied and decision.user == dana and decision.take_version == 1
    assert decision.checklist == {"on-model": True, "palette": False}
    assert Handoff.objects.filter(take=take, step="review", outcome="passed").exists()


def test_rejection_needs_a_reason_and_keeps_it_with_the_text():
    brief = board_brief(shots=1)
    take = first_take(brief)

    with pytest.raises(services.ReviewError, match="reason"):
        services.decide(take=take, user=director(), verdict="rejected", expected_version=1)
    decision = services.decide(
        take=take,
        user=director(),
        verdict="rejected",
        expected_version=1,
        reason_code="artefacts",
        reason_text="Smearing on the lantern at 2s",
    )

    take.refresh_from_db()
    assert take.status == Take.Status.REJECTED
    assert take.status_reason == "Artefacts: Smearing on the lantern at 2s"
    assert decision.get_reason_display() == "Artefacts"
    assert Decision.objects.count() == 1


def test_second_director_on_the_same_version_is_told_what_the_first_did_and_kept():
    brief = board_brief(shots=1)
    take = first_take(brief)
    first, second = director(first_name="Ana", last_name="Reyes"), director(first_name="Bo")
    services.decide(take=take, user=first, verdict="approved", expected_version=1)

    with pytest.raises(services.DecisionConflict) as conflict:
        services.decide(
            take=take,
            user=second,
            verdict="rejected",
            expected_version=1,
            reason_code="off_brand",
            reason_text="Too cold",
        )

    assert "Ana Reyes approved take 1" in conflict.value.message
    assert "Your rejection was not applied" in conflict.value.message
    take.refresh_from_db()
    assert take.status == Take.Status.APPROVED
    kept = Decision.objects.get(user=second)
    assert (kept.applied, kept.verdict, kept.reason_text) == (False, "rejected", "Too cold")


def test_reapplying_knowingly_against_the_new_version_overrides():
    brief = board_brief(shots=1)
    take = first_take(brief)
    services.decide(take=take, user=director(), verdict="approved", expected_version=1)

    services.decide(
        take=take, user=director(), verdict="rejected", expected_version=2, reason_code="continuity"
    )

    take.refresh_from_db()
    assert take.status == Take.Status.REJECTED
    assert list(take.decisions.values_list("verdict", "applied")) == [
        ("approved", True),
        ("rejected", True),
    ]


def test_producers_cannot_decide_but_can_note():
    brief = board_brief(shots=1)
    take, priya = first_take(brief), producer()

    with pytest.raises(PermissionDenied):
        services.decide(take=take, user=priya, verdict="approved", expected_version=1)
    note = services.add_note(take=take, user=priya, body="Logo too small", timecode_start=1.25)

    assert (note.user, note.timecode_start, note.rect) == (priya, 1.25, None)
    assert not Decision.objects.exists()


def test_note_keeps_a_range_and_a_normalised_region_and_refuses_outside_the_take():
    brief = board_brief(shots=1)
    take = first_take(brief)

    note = services.add_note(
        take=take,
        user=director(),
        body="Face melts",
        timecode_start=1,
        timecode_end=2.5,
        rect={"x": 0.25, "y": 0.1, "w": 0.5, "h": 0.4},
    )
    with pytest.raises(services.ReviewError, match="within the take"):
        services.add_note(take=take, user=director(), body="late", timecode_start=9)
    with pytest.raises(services.ReviewError, match="inside the frame"):
        services.add_note(
            take=take,
            user=director(),
            body="box",
            timecode_start=1,
            rect={"x": 0.8, "y": 0, "w": 0.5, "h": 0.2},
        )

    assert (note.timecode_end, note.rect["w"]) == (2.5, 0.5)
    assert Note.objects.count() == 1


def test_bulk_decision_applies_one_reason_and_reports_takes_decided_meanwhile():
    brief = board_brief(shots=3)
    takes = list(Take.objects.filter(shot__brief=brief).select_related("shot__brief"))
    services.decide(
        take=takes[2], user=director(first_name="Ana"), verdict="approved", expected_version=1
    )

    outcome = services.bulk_decide(
        takes_with_versions=[(t, 1) for t in takes],
        user=director(),
        verdict="rejected",
        reason_code="wrong_framing",
    )

    assert len(outcome.applied) == 2 and len(outcome.conflicts) == 1
    assert outcome.conflicts[0].take.pk == takes[2].pk
    statuses = dict(Take.objects.filter(shot__brief=brief).values_list("pk", "status"))
    assert statuses == {takes[0].pk: "rejected", takes[1].pk: "rejected", takes[2].pk: "approved"}
    assert set(
        Decision.objects.filter(applied=True, verdict="rejected").values_list("reason", flat=True)
    ) == {"wrong_framing"}


def test_reprompt_adds_a_queued_current_take_and_enqueues_its_generation(
    django_capture_on_commit_callbacks,
):
    brief = board_brief(shots=1)
    old = first_take(brief)
    other = AssetFactory(ip=brief.ip, title="Night still")

    with django_capture_on_commit_callbacks(execute=True):
        new = services.reprompt(
            take=old,
            user=director(),
            prompt="The pier at night, lanterns lit.",
            negative_prompt="text",
            reference_ids=[other.pk],
        )

    old.refresh_from_db()
    assert (new.number, new.status, new.is_current, new.parent_id) == (2, "queued", True, old.pk)
    assert list(new.references.all()) == [other]
    assert old.is_current is False and old.prompt.startswith("Shot 1")
    queued = [json.loads(p.read_text()) for p in Path(settings.BROKER_DIR, "queue").glob("*")]
    bodies = [json.loads(base64.b64decode(m["body"])) for m in queued]
    assert any(
        m["headers"]["task"] == "briefs.generate" and b[0] == [new.pk]
        for m, b in zip(queued, bodies, strict=True)
    )


def test_make_current_brings_an_earlier_take_back():
    brief = board_brief(shots=1)
    old = first_take(brief)
    new = services.reprompt(
        take=old, user=director(), prompt="Again", negative_prompt="", reference_ids=[]
    )

    services.make_current(take=old, user=director())

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.is_current, new.is_current) == (True, False)


def test_derived_rights_are_the_intersection_of_the_references():
    gb_fr = RightsFactory(worldwide=False, territories=["GB", "FR"], valid_until=date(2030, 1, 1))
    fr_de = RightsFactory(
        worldwide=False,
        territories=["FR", "DE"],
        valid_from=date(2024, 6, 1),
        reference_use_allowed=False,
    )
    world = RightsFactory()

    rights = services.derive_rights([gb_fr.asset, fr_de.asset, world.asset])

    assert rights["worldwide"] is False and rights["territories"] == ["FR"]
    assert (rights["valid_from"], rights["valid_until"]) == (date(2024, 6, 1), date(2030, 1, 1))
    assert rights["reference_use_allowed"] is False
    with pytest.raises(services.ReviewError, match="share no territory"):
        services.derive_rights(
            [gb_fr.asset, RightsFactory(worldwide=False, territories=["US"]).asset]
        )


def test_promote_puts_an_approved_take_in_the_catalog_with_provenance_and_versions():
    brief = board_brief(shots=1)
    take = first_take(brief)
    with pytest.raises(services.ReviewError, match="approved"):
        services.promote_take(take=take, user=catalog_director())
    services.decide(take=take, user=director(), verdict="approved", expected_version=1)
    take.refresh_from_db()

    first = services.promote_take(take=take, user=catalog_director()).asset

    assert (first.kind, first.source, first.version) == ("clip", "generated", 1)
    assert first.provenance["take_id"] == take.pk and first.provenance["brief_id"] == brief.pk
    assert [r["asset_id"] for r in first.provenance["references"]] == sorted(
        take.references.values_list("pk", flat=True)
    )
    assert first.rights.worldwide and first.rights.reference_use_allowed
    again = services.promote_take(take=take, user=catalog_director())
    assert again.deduplicated and again.asset.pk == first.pk
    assert Asset.objects.filter(source="generated").count() == 1


@pytest.mark.parametrize("make_user", [director, producer])
def test_given_no_catalog_admin_role_when_promoting_then_refused_and_nothing_is_written(
    make_user,
):
    brief = board_brief(shots=1)
    take = first_take(brief)
    services.decide(take=take, user=director(), verdict="approved", expected_version=1)
    take.refresh_from_db()

    with pytest.raises(PermissionDenied):
        services.promote_take(take=take, user=make_user())

    assert not Asset.objects.filter(source="generated").exists()
