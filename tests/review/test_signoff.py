"""Two-director sign-off: approvals below N, the N-th, repeats, disagreements and the lead."""

import csv
import io
import json
import zipfile

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from briefs import services as brief_services
from briefs.models import Handoff, Shot, Take
from reliability import autonomy
from reliability.models import AutonomyPolicy, ShadowPrediction
from review import services
from review.export import build_export
from review.models import Decision
from tests.factories.reliability import PolicyFactory
from tests.factories.retrieval import IPFactory
from tests.factories.review import board_brief
from tests.factories.users import director, producer

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def two_director_take(**brief_fields) -> Take:
    brief = board_brief(shots=1, required_approvals=2, **brief_fields)
    return Take.objects.select_related("shot__brief__ip").get(shot__brief=brief)


def lead(**kwargs):
    user = director(**kwargs)
    user.user_permissions.add(Permission.objects.get(codename="lead_director"))
    return user


def approve(take: Take, user) -> Decision:
    take.refresh_from_db()
    return services.decide(take=take, user=user, verdict="approved", expected_version=take.version)


def reject(take: Take, user, text: str = "") -> Decision:
    take.refresh_from_db()
    return services.decide(
        take=take,
        user=user,
        verdict="rejected",
        expected_version=take.version,
        reason_code="artefacts",
        reason_text=text,
    )


def test_brief_without_its_own_number_takes_the_ips():
    brief = board_brief(shots=1)
    assert brief.approvals_needed == 1

    brief.ip.required_approvals = 3
    brief.ip.save()
    brief.refresh_from_db()
    assert brief.approvals_needed == 3

    brief.required_approvals = 2
    assert brief.approvals_needed == 2


def test_producer_sets_the_number_on_the_brief_and_out_of_range_is_refused():
    fields = {
        "producer": producer(),
        "ip": IPFactory(),
        "title": "Harbour",
        "beat": "The keeper walks the pier.",
        "tone": "calm",
        "shot_count": 1,
        "aspect_ratio": "16:9",
        "seconds_per_shot": 4,
        "territory": "GB",
        "release_date": timezone.localdate(),
    }

    brief = brief_services.brief_submit(**fields, required_approvals=2)

    assert brief.approvals_needed == 2
    with pytest.raises(brief_services.BriefError, match="1 to 5 directors"):
        brief_services.brief_submit(**fields, required_approvals=9)


def test_approval_below_n_is_signed_and_leaves_the_take_awaiting_the_others():
    take = two_director_take()

    decision = approve(take, director(first_name="Ana"))

    take.refresh_from_db()
    assert decision.effect == Decision.Effect.SIGNED and not decision.is_final
    assert (take.status, take.version) == (Take.Status.READY, 1)
    assert not Handoff.objects.filter(take=take, step=Handoff.Step.REVIEW).exists()
    state = services.take_signoff(take=take)
    assert [d.user.first_name for d in state.approvals] == ["Ana"]
    assert state.awaited == 1


def test_nth_distinct_approval_moves_the_take_and_shot_to_approved():
    take = two_director_take()
    approve(take, director(first_name="Ana"))

    decision = approve(take, director(first_name="Bo"))

    take.refresh_from_db()
    assert decision.effect == Decision.Effect.MOVED and decision.is_final
    assert take.status == Take.Status.APPROVED
    assert Shot.objects.get(pk=take.shot_id).status == Shot.Status.APPROVED
    assert Handoff.objects.filter(take=take, step="review", outcome="passed").count() == 1


def test_same_director_approving_twice_counts_once():
    take = two_director_take()
    ana = director(first_name="Ana")
    approve(take, ana)

    second = approve(take, ana)

    take.refresh_from_db()
    assert second.effect == Decision.Effect.SIGNED
    assert take.status == Take.Status.READY
    assert services.take_signoff(take=take).awaited == 1


def test_three_approvals_needed_from_the_ip_are_counted_from_three_directors():
    brief = board_brief(shots=1)
    brief.ip.required_approvals = 3
    brief.ip.save()
    take = Take.objects.get(shot__brief=brief)

    effects = [approve(take, director()).effect for _ in range(3)]

    take.refresh_from_db()
    assert effects == ["signed", "signed", "moved"]
    assert take.status == Take.Status.APPROVED


def test_disagreement_routes_the_shot_to_a_lead_with_both_verdicts():
    take = two_director_take()
    approve(take, director(first_name="Ana", last_name="Reyes"))

    decision = reject(take, director(first_name="Bo", last_name="Lind"), "smear at 2s")

    take.refresh_from_db()
    assert decision.effect == Decision.Effect.DISPUTED and not decision.is_final
    assert take.status == Take.Status.ROUTED
    assert "approved by Ana Reyes" in take.status_reason
    assert "rejected by Bo Lind (Artefacts: smear at 2s)" in take.status_reason
    assert Shot.objects.get(pk=take.shot_id).status == Shot.Status.NEEDS_HUMAN
    assert Handoff.objects.filter(take=take, step="review", outcome="routed").count() == 1


def test_a_disagreement_emails_the_lead_directors_once_it_commits(
    mailoutbox, django_capture_on_commit_callbacks
):
    take = two_director_take()
    lead(email="lee@studio.example")
    approve(take, director())

    with django_capture_on_commit_callbacks(execute=True):
        reject(take, director(first_name="Bo", last_name="Lind"))

    assert [m.to for m in mailoutbox] == [["lee@studio.example"]]
    assert "Directors disagree on shot 1" in mailoutbox[0].subject
    assert "rejected by Bo Lind (Artefacts)" in mailoutbox[0].body


def test_a_lead_director_settles_the_disagreement_and_a_new_round_begins():
    take = two_director_take()
    approve(take, director())
    reject(take, director())

    ruling = approve(take, lead(first_name="Lee"))

    take.refresh_from_db()
    assert ruling.effect == Decision.Effect.RULED and ruling.is_final
    assert take.status == Take.Status.APPROVED
    state = services.take_signoff(take=take)
    assert state.ruling == ruling and not state.disputed


def test_a_director_without_the_lead_permission_cannot_settle_a_disagreement():
    take = two_director_take()
    approve(take, director())
    reject(take, director())

    another = approve(take, director())

    take.refresh_from_db()
    assert another.effect == Decision.Effect.DISPUTED
    assert take.status == Take.Status.ROUTED


def test_one_approval_needed_keeps_the_first_verdict_deciding():
    take = Take.objects.get(shot__brief=board_brief(shots=1))

    decision = approve(take, director())

    take.refresh_from_db()
    assert decision.effect == Decision.Effect.MOVED
    assert take.status == Take.Status.APPROVED


def test_autonomy_counts_only_the_final_verdict_of_a_signed_off_take(
    django_capture_on_commit_callbacks,
):
    take = two_director_take()
    policy = PolicyFactory(mode=AutonomyPolicy.Mode.SHADOW)
    autonomy.on_take_ready(take)

    with django_capture_on_commit_callbacks(execute=True):
        approve(take, director())
    prediction = ShadowPrediction.objects.get(take=take)
    assert prediction.decided_at is None

    with django_capture_on_commit_callbacks(execute=True):
        reject(take, director())
    prediction.refresh_from_db()
    assert prediction.decided_at is None

    the_lead = lead()
    with django_capture_on_commit_callbacks(execute=True):
        reject(take, the_lead)
    prediction.refresh_from_db()
    assert (prediction.human, prediction.human_verdict) == (the_lead, "rejected")
    assert policy.predictions.filter(decided_at__isnull=False).count() == 1


def test_an_auto_policy_leaves_a_take_needing_two_directors_to_people():
    take = two_director_take()
    PolicyFactory(mode=AutonomyPolicy.Mode.AUTO, sample_rate=0.0, threshold=0.0)

    assert autonomy.on_take_ready(take) == autonomy.Outcome.AUDIT

    take.refresh_from_db()
    assert take.status == Take.Status.READY


def test_board_card_shows_who_signed_and_how_many_are_awaited(client):
    brief = board_brief(shots=1)
    brief.ip.required_approvals = 3
    brief.ip.save()
    take = Take.objects.get(shot__brief=brief)
    approve(take, director(first_name="Ana", last_name="Reyes"))
    dana = director(first_name="Dana")
    client.force_login(dana)

    response = client.post(
        reverse("review:decide", args=[take.pk]),
        {"verdict": "approved", "version": take.version},
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "You signed off Take 1 of shot 1" in html
    assert "Sign-off <small>2 of 3 directors</small>" in html
    assert "Ana Reyes signed" in html and "Dana signed" in html
    assert "1 more approval from other directors awaited." in html


def test_board_card_shows_both_verdicts_of_a_disagreement_and_tells_the_lead(client):
    take = two_director_take()
    approve(take, director(first_name="Ana", last_name="Reyes"))
    reject(take, director(first_name="Bo", last_name="Lind"), "smear at 2s")
    client.force_login(lead())

    html = client.get(reverse("review:shot_card", args=[take.shot_id]), **HTMX).content.decode()

    assert "Ana Reyes signed" in html
    assert "Bo Lind rejected — Artefacts: “smear at 2s”" in html
    assert "Directors disagree." in html and "your verdict settles it" in html


def test_export_names_every_director_who_signed_the_approved_take():
    take = two_director_take()
    approve(take, director(first_name="Ana", last_name="Reyes"))
    approve(take, director(first_name="Bo", last_name="Lind"))
    brief = take.shot.brief

    archive = build_export(brief=brief, user=brief.producer)

    with zipfile.ZipFile(archive.file) as zipped:
        rows = list(csv.DictReader(io.StringIO(zipped.read("shots.csv").decode())))
        manifest = json.loads(zipped.read("manifest.json"))
    assert rows[0]["approved_by"] == "Ana Reyes; Bo Lind"
    entry = manifest["takes"][0]
    assert entry["signed_off_by"] == ["Ana Reyes", "Bo Lind"]
    assert [d["effect"] for d in entry["decisions"]] == ["signed", "moved"]


def test_bulk_approval_says_which_takes_were_only_signed(client):
    brief = board_brief(shots=2, required_approvals=2)
    first, second = Take.objects.filter(shot__brief=brief).order_by("shot__order")
    approve(first, director())
    client.force_login(director())

    response = client.post(
        reverse("review:bulk_decide", args=[brief.pk]),
        {"verdict": "approved", "selected": [f"{first.pk}:1", f"{second.pk}:1"]},
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    assert shown == [
        "1 take(s) approved.",
        "1 take(s) signed; other directors' approvals awaited.",
    ]
