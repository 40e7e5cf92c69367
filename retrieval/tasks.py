"""Celery tasks of the catalog: thin, idempotent, taking ids."""

from celery import shared_task

from retrieval.services import EMBED_TASK, asset_embed
from studio.ai.types import TransientProviderError


@shared_task(
    name=EMBED_TASK,
    autoretry_for=(TransientProviderError,),
    retry_backoff=True,
    max_retries=5,
)
def embed_asset(asset_id: int) -> None:
    """Caption and embed one asset; a no-op when its vectors already match its text."""
    asset_embed(asset_id=asset_id)
