"""Celery tasks for review: thin wrappers that take ids."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from review import cut
from review.services import RENDER_CUT_TASK


@shared_task(
    name=RENDER_CUT_TASK,
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    max_retries=5,
)
def render_cut(cut_id: int) -> None:
    """Render a brief's approved cut as one MP4."""
    cut.render_cut(cut_id=cut_id)
