"""Tasks owned by the core: the worker round-trip ping."""

import os

from celery import shared_task

from studio.services import worker_record_ping


@shared_task(bind=True, name="studio.ping")
def ping(self, token: str) -> None:
    """Prove a round trip producer -> broker -> worker -> database."""
    worker_record_ping(nodename=self.request.hostname, pid=os.getpid(), token=token)
