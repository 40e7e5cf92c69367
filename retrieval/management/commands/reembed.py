"""Move the catalog to the configured embedding model/dimension without downtime."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from retrieval import embedding
from retrieval.models import Asset
from retrieval.services import embedding_space_build


class Command(BaseCommand):
    help = (
        "Embed every current asset with the configured embedder (GEMINI_EMBEDDING_MODEL / "
        "EMBEDDING_DIMENSIONS / AI_PROVIDER) into a new space; searches keep using the old "
        "vectors until the new space is complete, then switch over in one transaction. "
        "Resumable: re-running skips assets already embedded in the new space."
    )

    def handle(self, *args, **options) -> None:
        before = embedding.active_space()
        space = embedding.configured_space()
        pending = Asset.objects.filter(is_current=True).exclude(embeddings__space=space).count()
        self.stdout.write(f"Active: {before or 'none'}; target: {space}; {pending} to embed.")
        with tqdm(total=pending, unit="asset", disable=pending == 0) as bar:
            space = embedding_space_build(progress=bar.update)
        self.stdout.write(self.style.SUCCESS(f"Search now uses {space}."))
