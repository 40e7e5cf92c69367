"""Embedding spaces: which model made a vector, the text it was made from, and its HNSW index."""

import hashlib

from django.db import connection

from retrieval.models import Asset, EmbeddingSpace
from studio.ai import providers
from studio.ai.protocols import Embedder


def asset_search_text(asset: Asset) -> str:
    """Return the text an asset is embedded and full-text indexed from."""
    characters = [
        f"{c.name}: {c.description} {c.visual_traits}".strip() for c in asset.characters.all()
    ]
    parts = [
        asset.title,
        asset.get_kind_display(),
        " ".join(asset.tags),
        asset.description,
        asset.caption,
        "; ".join(characters),
        f"{asset.ip.name}. {asset.ip.logline}",
    ]
    return "\n".join(part.strip() for part in parts if part and part.strip())


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def embedder_for(space: EmbeddingSpace) -> Embedder:
    """Return an embedder that makes vectors in `space`."""
    return providers.get_embedder(model=space.model, dimensions=space.dimensions)


def configured_space() -> EmbeddingSpace:
    """Return the space of the configured embedder, creating it and its index if new."""
    embedder = providers.get_embedder()
    space, created = EmbeddingSpace.objects.get_or_create(
        model=embedder.model, dimensions=embedder.dimensions
    )
    if created:
        create_space_index(space)
    if not EmbeddingSpace.objects.filter(is_active=True).exists():
        # The very first space serves straight away: there is nothing older to fall back on.
        EmbeddingSpace.objects.filter(pk=space.pk).update(is_active=True)
        space.is_active = True
    return space


def create_space_index(space: EmbeddingSpace) -> None:
    """Create the space's partial HNSW index (cheap: the space has no rows yet).

    The index holds half-precision copies of the vectors: half the size and build time, and
    search re-ranks its candidates by the full-precision distance (bench/retrieval.py measured
    the same recall@10 as a full-precision index).
    """
    with connection.cursor() as cursor:
        # Postgres refuses DDL on a table with deferred FK checks pending in this transaction.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(space_index_sql(space))
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def space_index_sql(space: EmbeddingSpace) -> str:
    """Return the CREATE INDEX statement of the space's HNSW index (search_assets' expression)."""
    return (
        f"CREATE INDEX IF NOT EXISTS {space.index_name} ON retrieval_assetembedding "
        f"USING hnsw ((vector::halfvec({int(space.dimensions)})) halfvec_cosine_ops) "
        f"WHERE space_id = {int(space.pk)}"
    )


def drop_space_index(space: EmbeddingSpace) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DROP INDEX IF EXISTS {space.index_name}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def target_spaces() -> list[EmbeddingSpace]:
    """Return the spaces a changed asset must be embedded in: the active one and any in build."""
    configured_space()
    return list(
        EmbeddingSpace.objects.filter(is_active=True)
        | EmbeddingSpace.objects.filter(completed_at__isnull=True)
    )


def active_space() -> EmbeddingSpace | None:
    return EmbeddingSpace.objects.filter(is_active=True).first()
