"""The reliability pages over HTTP: who sees them, what they show, fragments and CSV."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from briefs.models import Handoff
from reliability.models import AutonomyPolicy, ReliabilityAlert
from tests.factories.briefs import BriefFactory, ShotFactory
from tests.factories.reliability import HandoffFactory, PolicyFactory, light_take
from tests.factories.users import catalog_admin, director, lead_director, producer

Step, Outcome = Handoff.Step, Handoff.Outcome


@pytest.fixture
def recent_brief(db):
    """A brief with a retried, a routed and a passed handoff in the last hour."""
    brief = BriefFactory(title="Lantern teaser")
    shot = ShotFactory(brief=brief, order=1)
    take = light_take(shot)
    at = timezone.now() - timedelta(minutes=30)
    rows = [
        (None, None, Step.RETRIEVE, Outcome.PASSED, {"query": "lantern pier", "hits": []}),
        (None, None, Step.PLAN, Outcome.PASSED, {"shots": ["Wide: the pier at dusk"]}),
        (shot, take, Step.GENERATE, Outcome.RETRIED, {"retry_in_s": 2.5}),
        (shot, take, Step.GENERATE, Outcome.PASSED, {"operation": "op-1", "bytes": 20480}),
        (
            shot,
            take,
            Step.CHECK,
            Outcome.ROUTED,
            {"checks": [{"name": "frozen", "passed": False, "value": 0.97, "limit": "<= 0.8"}]},
        ),
    ]
    for i, (row_shot, row_take, step, outcome, detail) in enumerate(rows):
        HandoffFactory(
            brief=brief,
            shot=row_shot,
            take=row_take,
            step=step,
            outcome=outcome,
            detail=detail,
            reasons=["clip is frozen (97% of frames do not move)"] if outcome == "routed" else [],
            started_at=at + timedelta(seconds=10 * i),
        )
    return brief


def signed_in(client, user):
    client.force_login(user)
    return client


def test_dashboard_shows_per_step_figures_and_an_open_alert(client, recent_brief):
    ReliabilityAlert.objects.create(
        step="check",
        pass_rate=0.5,
        threshold=0.8,
        attempts=12,
        window_minutes=60,
        message="Check passed 50% of 12 attempts in the last 60 minutes, below its 80% threshold.",
    )

    response = signed_in(client, recent_brief.producer).get(reverse("reliability:dashboard"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Check is degraded." in page and "below its 80% threshold" in page
    assert '<title id="steps-title">Attempts per step, by outcome</title>' in page
    # generate: 1 of 2 attempts passed; the step table shows it as a rate.
    assert "<strong>50.0%</strong>" in page
    assert "Frozen clip" in page


def test_filters_return_only_the_dashboard_fragment_to_htmx(client, recent_brief):
    other = BriefFactory()
    response = signed_in(client, director()).get(
        reverse("reliability:dashboard"),
        {"ip": other.ip_id, "window": "7d"},
        headers={"HX-Request": "true"},
    )

    page = response.content.decode()
    assert page.lstrip().startswith('<div id="dashboard-body">')
    assert "<html" not in page
    assert "No handoffs for these filters yet." in page


def test_each_chart_downloads_its_numbers_as_csv(client, recent_brief):
    response = signed_in(client, recent_brief.producer).get(
        reverse("reliability:csv", args=["steps"]), {"window": "24h"}
    )

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["step", "attempts", "passed", "auto_approved"]
    generate = next(row for row in rows if row[0] == "generate")
    assert generate[1:3] == ["2", "1"] and generate[rows[0].index("pass_rate")] == "0.5000"
    missing = client.get(reverse("reliability:csv", args=["nope"]))
    assert missing.status_code == 404


def test_trace_lists_every_handoff_with_its_reasons_and_the_wait_for_a_human(client, recent_brief):
    response = signed_in(client, director()).get(
        reverse("reliability:trace", args=[recent_brief.pk])
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('class="rel-handoff card') == 5
    assert "clip is frozen (97% of frames do not move)" in page
    assert "Retry scheduled in 2.5 s" in page and "20 KB clip from operation op-1" in page
    assert "waited" in page and "still waiting" in page
    assert 'aria-labelledby="trace-title trace-desc"' in page


def test_given_another_producers_brief_when_a_producer_opens_its_trace_then_404(
    client, recent_brief
):
    response = signed_in(client, producer()).get(
        reverse("reliability:trace", args=[recent_brief.pk])
    )

    assert response.status_code == 404
    assert "Lantern teaser" not in response.content.decode()


def test_given_their_own_brief_when_the_producer_opens_its_trace_then_it_shows(
    client, recent_brief
):
    response = signed_in(client, recent_brief.producer).get(
        reverse("reliability:trace", args=[recent_brief.pk])
    )

    assert response.status_code == 200 and "Lantern teaser" in response.content.decode()


def test_given_two_producers_when_one_opens_the_dashboard_then_the_filter_lists_only_theirs(
    client, recent_brief
):
    mine = BriefFactory(title="My own teaser")

    page = signed_in(client, mine.producer).get(reverse("reliability:dashboard")).content.decode()

    assert "My own teaser" in page
    assert "Lantern teaser" not in page


def test_given_another_producers_brief_when_filtering_the_dashboard_by_it_then_404(
    client, recent_brief
):
    signed_in(client, producer())
    query = {"brief": recent_brief.pk, "window": "all"}

    page = client.get(reverse("reliability:dashboard"), query)
    download = client.get(reverse("reliability:csv", args=["steps"]), query)

    assert page.status_code == 404 and download.status_code == 404


def test_given_another_producers_handoffs_when_a_producer_downloads_figures_then_none_count(
    client, recent_brief
):
    mine = BriefFactory(title="My own teaser")
    HandoffFactory(brief=mine, step=Step.RETRIEVE, started_at=timezone.now())

    def generate_row(user):
        response = signed_in(client, user).get(
            reverse("reliability:csv", args=["steps"]), {"window": "all"}
        )
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        return {row[0]: row[1] for row in rows[1:]}

    assert generate_row(mine.producer) == {"retrieve": "1"}
    assert generate_row(director())["generate"] == "2"


def test_given_a_catalog_admin_when_opening_the_dashboard_then_403(client, recent_brief):
    response = signed_in(client, catalog_admin()).get(reverse("reliability:dashboard"))

    assert response.status_code == 403


@pytest.mark.parametrize("make_user", [catalog_admin, director, producer])
def test_given_no_lead_permission_when_opening_or_posting_policies_then_403(client, db, make_user):
    policy = PolicyFactory(mode=AutonomyPolicy.Mode.MANUAL)
    signed_in(client, make_user())
    numbers = {"threshold": 0.8, "sample_rate": 0.1, "min_decisions": 50, "bar": 0.9}

    listing = client.get(reverse("reliability:policies"))
    created = client.post(reverse("reliability:policies"), {"step": "review", **numbers})
    changed = client.post(reverse("reliability:policy", args=[policy.pk]), {"mode": "shadow"})

    assert (listing.status_code, created.status_code, changed.status_code) == (403, 403, 403)
    policy.refresh_from_db()
    assert policy.mode == AutonomyPolicy.Mode.MANUAL and AutonomyPolicy.objects.count() == 1


def test_given_the_dashboard_when_viewed_then_only_the_lead_gets_the_policies_link(client, db):
    link = reverse("reliability:policies")

    assert link not in signed_in(client, director()).get(reverse("reliability:dashboard")).text
    assert link in signed_in(client, lead_director()).get(reverse("reliability:dashboard")).text


@pytest.mark.parametrize(
    ("numbers", "message"),
    [
        ({"min_decisions": 29, "bar": 0.9}, "N must be at least 30 decisions."),
        ({"min_decisions": 50, "bar": 0.5}, "The bar must be between 0.9 and 1."),
    ],
)
def test_given_numbers_below_the_floors_when_the_lead_submits_then_the_form_says_why(
    client, db, numbers, message
):
    signed_in(client, lead_director())
    base = {"threshold": 0.8, "sample_rate": 0.1}

    created = client.post(reverse("reliability:policies"), {"step": "review", **base, **numbers})
    policy = PolicyFactory(mode=AutonomyPolicy.Mode.MANUAL)
    changed = client.post(
        reverse("reliability:policy", args=[policy.pk]), {"mode": "manual", **base, **numbers}
    )

    assert created.status_code == 400 and message in created.text
    assert changed.status_code == 400 and message in changed.text
    policy.refresh_from_db()
    assert (policy.min_decisions, policy.bar) == (35, 0.9)


def test_the_lead_director_creates_and_changes_policies(client, db):
    lead = lead_director()
    signed_in(client, lead)
    created = client.post(
        reverse("reliability:policies"),
        {"step": "review", "threshold": 0.8, "sample_rate": 0.1, "min_decisions": 50, "bar": 0.9},
    )
    policy = AutonomyPolicy.objects.get()
    assert created.status_code == 302 and policy.mode == "manual"

    refused = client.post(
        reverse("reliability:policy", args=[policy.pk]),
        {"mode": "auto", "threshold": 0.8, "sample_rate": 0.1, "min_decisions": 50, "bar": 0.9},
    )
    assert refused.status_code == 400
    assert "A policy earns auto in shadow mode" in refused.content.decode()

    client.post(
        reverse("reliability:policy", args=[policy.pk]),
        {
            "mode": "shadow",
            "threshold": 0.8,
            "sample_rate": 0.1,
            "min_decisions": 50,
            "bar": 0.9,
            "note": "measure agreement",
        },
    )
    page = client.get(reverse("reliability:policy", args=[policy.pk])).content.decode()
    assert "measure agreement" in page and "manual → shadow" in page


def test_the_policies_page_shows_agreement_per_policy(client, db):
    PolicyFactory(mode=AutonomyPolicy.Mode.SUSPENDED, status_reason="An audit disagreed.")
    page = signed_in(client, lead_director()).get(reverse("reliability:policies")).content
    assert b"Suspended" in page and b"0 / 0" in page
