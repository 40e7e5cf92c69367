"""Tasks owned by the studio app."""

import os

from celery import shared_task

from studio import webhooks
from studio.services import worker_record_ping


@shared_task(bind=True, name="studio.ping")
def ping(self, token: str) -> None:
    """Prove a round trip producer -> broker -> worker -> database."""
    worker_record_ping(nodename=self.request.hostname, pid=os.getpid(), token=token)


@shared_task(name="studio.deliver_webhook")
def deliver_webhook(delivery_id: int) -> None:
    """Send one webhook delivery; schedule the next try with backoff when it fails."""
    retry_in = webhooks.attempt_delivery(delivery_id)
    if retry_in is not None:
        deliver_webhook.apply_async((delivery_id,), countdown=retry_in)


@shared_task(name="studio.webhooks_sweep")
def webhooks_sweep() -> None:
    """Re-enqueue pending deliveries whose wake-up message was lost (a crashed worker)."""
    for delivery_id in webhooks.overdue_deliveries():
        deliver_webhook.delay(delivery_id)
