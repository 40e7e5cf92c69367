"""Threshold alerts: a degraded step opens one alert and one event, and closes on recovery."""

from datetime import timedelta

import pytest
from django.utils import timezone

from briefs.models import Handoff
from reliability import alerts
from reliability.signals import reliability_event
from tests.factories.briefs import BriefFactory
from tests.factories.reliability import HandoffFactory

Outcome = Handoff.Outcome


@pytest.fixture
def delivered(monkeypatch):
    sent = []
    monkeypatch.setattr(alerts, "emit_event", lambda name, payload: sent.append((name, payload)))
    return sent


def log_generate(brief, *, passed: int, failed: int, minutes_ago: int = 5) -> None:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    for outcome, count in ((Outcome.PASSED, passed), (Outcome.ROUTED, failed)):
        for _ in range(count):
            HandoffFactory(brief=brief, step="generate", outcome=outcome, started_at=at)


def test_a_step_below_its_threshold_opens_one_alert_and_one_event(
    db, settings, delivered, django_capture_on_commit_callbacks
):
    settings.RELIABILITY_ALERT_THRESHOLDS = {"generate": 0.9}
    settings.RELIABILITY_ALERT_MIN_ATTEMPTS = 10
    log_generate(BriefFactory(), passed=7, failed=3)

    with django_capture_on_commit_callbacks(execute=True):
        first = alerts.check_step_alerts()
    with django_capture_on_commit_callbacks(execute=True):
        again = alerts.check_step_alerts()

    [alert] = first.opened
    assert again.opened == [] and list(alerts.open_alerts()) == [alert]
    assert alert.message == (
        "Generate passed 70% of 10 attempts in the last 60 minutes, below its 90% threshold."
    )
    assert [name for name, _ in delivered] == ["step.degraded"]
    assert delivered[0][1]["pass_rate"] == 0.7 and delivered[0][1]["step"] == "generate"


def test_a_recovered_step_resolves_its_alert(
    db, settings, delivered, django_capture_on_commit_callbacks
):
    settings.RELIABILITY_ALERT_THRESHOLDS = {"generate": 0.9}
    brief = BriefFactory()
    log_generate(brief, passed=7, failed=3)
    alerts.check_step_alerts()
    log_generate(brief, passed=40, failed=0)

    with django_capture_on_commit_callbacks(execute=True):
        result = alerts.check_step_alerts()

    assert len(result.resolved) == 1 and not alerts.open_alerts().exists()
    assert delivered[-1][0] == "step.recovered"


def test_too_few_attempts_or_old_attempts_raise_no_alert(db, settings):
    settings.RELIABILITY_ALERT_THRESHOLDS = {"generate": 0.9}
    brief = BriefFactory()
    log_generate(brief, passed=1, failed=3)
    log_generate(brief, passed=0, failed=30, minutes_ago=120)

    assert alerts.check_step_alerts().opened == []


def test_alert_events_are_announced_to_whoever_listens(db):
    received = []

    def listener(sender, *, name, payload, **kwargs):
        received.append((name, payload))

    reliability_event.connect(listener)
    try:
        alerts.emit_event("step.degraded", {"step": "check"})
    finally:
        reliability_event.disconnect(listener)

    assert received == [("step.degraded", {"step": "check"})]
