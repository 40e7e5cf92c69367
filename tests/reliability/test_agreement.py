"""Agreement between directors: Cohen's kappa per pair, against values computed by hand."""

import csv
import io

import pytest
from django.urls import reverse

from reliability import metrics
from review.models import Decision
from tests.factories.briefs import BriefFactory, ShotFactory
from tests.factories.reliability import light_take
from tests.factories.review import DecisionFactory
from tests.factories.users import director, producer

A, R = Decision.Verdict.APPROVED, Decision.Verdict.REJECTED


def decided(pairs, first, second) -> None:
    """Give each (first's verdict, second's verdict) pair its own take, decided by both."""
    brief = BriefFactory()
    for order, verdicts in enumerate(pairs, start=1):
        take = light_take(ShotFactory(brief=brief, order=order))
        for user, verdict in zip((first, second), verdicts, strict=True):
            reason = "artefacts" if verdict == R else ""
            DecisionFactory(take=take, user=user, verdict=verdict, reason=reason)


def test_kappa_of_a_two_by_two_table_matches_the_hand_computed_value():
    # Given 10 takes: both approve 4, only Ana approves 2, only Bo approves 1, both reject 3
    table = [(A, A)] * 4 + [(A, R)] * 2 + [(R, A)] * 1 + [(R, R)] * 3

    # Then observed agreement po = 7/10; Ana approves 6/10 and Bo 5/10, so chance agreement
    # pe = 0.6 * 0.5 + 0.4 * 0.5 = 0.5, and kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    assert metrics.cohens_kappa(table) == pytest.approx(0.4)


def test_perfect_disagreement_is_minus_one_and_perfect_mixed_agreement_is_one():
    assert metrics.cohens_kappa([(A, R), (R, A)]) == pytest.approx(-1.0)
    assert metrics.cohens_kappa([(A, A), (R, R)]) == pytest.approx(1.0)


def test_kappa_is_undefined_without_shared_takes_or_when_both_always_say_the_same_thing():
    assert metrics.cohens_kappa([]) is None
    assert metrics.cohens_kappa([(A, A)] * 5) is None
    assert metrics.cohens_kappa([(R, R)] * 2) is None


def test_each_pair_of_directors_gets_kappa_and_counts_over_the_takes_both_decided(db):
    # Given Ana and Bo decided the hand-computed table, and Cy only takes nobody else did
    ana = director(first_name="Ana", last_name="Reyes")
    bo = director(first_name="Bo", last_name="Lind")
    cy = director(first_name="Cy", last_name="Okafor")
    decided([(A, A)] * 4 + [(A, R)] * 2 + [(R, A)] * 1 + [(R, R)] * 3, ana, bo)
    DecisionFactory(take=light_take(ShotFactory()), user=cy)

    # When the dashboard measures agreement
    pairs = metrics.director_agreement(metrics.Filters())

    # Then the one pair with shared takes is there with its counts; Cy shares none, so no pair
    assert len(pairs) == 1
    pair = pairs[0]
    assert (pair.first, pair.second, pair.n, pair.agreements) == ("Ana Reyes", "Bo Lind", 10, 7)
    assert pair.observed == pytest.approx(0.7)
    assert pair.kappa == pytest.approx(0.4)


def test_a_director_who_changed_their_mind_counts_with_their_latest_verdict(db):
    ana, bo = director(first_name="Ana"), director(first_name="Bo")
    take = light_take(ShotFactory())
    DecisionFactory(take=take, user=ana, verdict=R, reason="artefacts")
    DecisionFactory(take=take, user=bo, verdict=A)
    DecisionFactory(take=take, user=ana, verdict=A)

    [pair] = metrics.director_agreement(metrics.Filters())

    assert (pair.n, pair.agreements, pair.kappa) == (1, 1, None)


def test_a_decision_that_lost_a_race_is_not_a_verdict(db):
    ana, bo = director(first_name="Ana"), director(first_name="Bo")
    take = light_take(ShotFactory())
    DecisionFactory(take=take, user=ana, verdict=A)
    DecisionFactory(take=take, user=bo, verdict=R, reason="artefacts", applied=False)

    assert metrics.director_agreement(metrics.Filters()) == []


def test_dashboard_shows_the_agreement_table_and_its_csv(client, db):
    ana = director(first_name="Ana", last_name="Reyes")
    bo = director(first_name="Bo", last_name="Lind")
    decided([(A, A)] * 4 + [(A, R)] * 2 + [(R, A)] * 1 + [(R, R)] * 3, ana, bo)
    # A director sees every brief's figures (a producer only their own briefs').
    client.force_login(director())

    page = client.get(reverse("reliability:dashboard")).content.decode()
    download = client.get(reverse("reliability:csv", args=["director-agreement"]))

    assert "Agreement between directors" in page
    assert "Ana Reyes &amp; Bo Lind" in page and "0.40" in page and "70.0%" in page
    assert "0 is no better than chance" in page
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows == [
        ["Directors", "Shared takes", "Agreed", "Observed agreement", "Cohen's kappa"],
        ["Ana Reyes & Bo Lind", "10", "7", "0.7000", "0.4000"],
    ]


def test_dashboard_says_when_no_take_has_two_directors(client, db):
    client.force_login(producer())

    page = client.get(reverse("reliability:dashboard")).content.decode()

    assert "No take has been decided by two directors for these filters yet." in page
