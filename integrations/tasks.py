"""Webhook delivery tasks: thin, taking ids, safe to run twice."""

from celery import shared_task

from integrations import webhooks


@shared_task(name=webhooks.DELIVER_TASK)
def deliver_webhook(delivery_id: int) -> None:
    """Send one webhook delivery; schedule the next try with backoff when it fails."""
    retry_in = webhooks.attempt_delivery(delivery_id)
    if retry_in is not None:
        deliver_webhook.apply_async((delivery_id,), countdown=retry_in)


@shared_task(name="integrations.webhooks_sweep")
def webhooks_sweep() -> None:
    """Re-enqueue pending deliveries whose wake-up message was lost (a crashed worker)."""
    for delivery_id in webhooks.overdue_deliveries():
        deliver_webhook.delay(delivery_id)
