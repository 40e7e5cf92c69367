"""Threshold alerts: a step whose pass rate over a window drops below its threshold.

An alert is a row (the dashboard shows open ones as a banner) and an event ("step.degraded",
then "step.recovered") sent as a reliability_event signal; integrations turns it into webhooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from reliability.metrics import Filters, step_metrics
from reliability.models import ReliabilityAlert
from reliability.signals import reliability_event


def emit_event(name: str, payload: dict[str, Any]) -> None:
    """Tell whoever listens (webhooks, in integrations) about a reliability event."""
    reliability_event.send(sender=ReliabilityAlert, name=name, payload=payload)


@dataclass(frozen=True)
class AlertCheck:
    """What one run of the alert check changed."""

    opened: list[ReliabilityAlert]
    resolved: list[ReliabilityAlert]


def open_alerts() -> QuerySet[ReliabilityAlert]:
    """Return the alerts still open, newest first (the dashboard banner)."""
    return ReliabilityAlert.objects.filter(resolved_at__isnull=True)


@transaction.atomic
def check_step_alerts(*, now: datetime | None = None) -> AlertCheck:
    """Open an alert for each step below its threshold over the window; resolve recovered ones."""
    now = now or timezone.now()
    window = settings.RELIABILITY_ALERT_WINDOW_MINUTES
    thresholds: dict[str, float] = settings.RELIABILITY_ALERT_THRESHOLDS
    steps = step_metrics(Filters(since=now - timedelta(minutes=window), until=now))
    current = {alert.step: alert for alert in open_alerts().select_for_update()}
    opened, resolved = [], []
    for metrics in steps:
        threshold = thresholds.get(metrics.step)
        if threshold is None or metrics.attempts < settings.RELIABILITY_ALERT_MIN_ATTEMPTS:
            continue
        rate = metrics.pass_rate or 0.0
        alert = current.get(metrics.step)
        if rate < threshold and alert is None:
            alert = ReliabilityAlert.objects.create(
                step=metrics.step,
                pass_rate=rate,
                threshold=threshold,
                attempts=metrics.attempts,
                window_minutes=window,
                message=(
                    f"{metrics.label} passed {rate:.0%} of {metrics.attempts} attempts in the "
                    f"last {window} minutes, below its {threshold:.0%} threshold."
                ),
            )
            opened.append(alert)
            _emit_after_commit("step.degraded", alert)
        elif rate >= threshold and alert is not None:
            alert.resolved_at = now
            alert.save(update_fields=["resolved_at"])
            resolved.append(alert)
            _emit_after_commit("step.recovered", alert)
    return AlertCheck(opened=opened, resolved=resolved)


def _emit_after_commit(name: str, alert: ReliabilityAlert) -> None:
    payload = {
        "alert": alert.pk,
        "step": alert.step,
        "pass_rate": round(alert.pass_rate, 4),
        "threshold": alert.threshold,
        "attempts": alert.attempts,
        "window_minutes": alert.window_minutes,
        "message": alert.message,
    }
    transaction.on_commit(lambda: emit_event(name, payload))
