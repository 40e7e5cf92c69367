"""Periodic work of the reliability layer."""

from celery import shared_task

from reliability.alerts import check_step_alerts


@shared_task(name="reliability.check_alerts", acks_late=True)
def check_reliability_alerts() -> int:
    """Run the alert check (periodically, from beat); return how many alerts changed."""
    result = check_step_alerts()
    return len(result.opened) + len(result.resolved)
