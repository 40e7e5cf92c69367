"""Embeddings: made after commit, idempotent, re-made when text changes, migrated without gaps."""

from datetime import date

import pytest
from django.core.management import call_command

from retrieval import embedding
from retrieval.models import Asset, AssetEmbedding, EmbeddingSpace
from retrieval.selectors import search_assets
from retrieval.services import asset_embed, asset_ingest, embedding_space_activate
from tests.factories.retrieval import AssetFactory, IPFactory, embedded_asset, png_bytes
from tests.workers import wait_until

pytestmark = pytest.mark.django_db
ON = date(2026, 6, 1)


def test_ingest_enqueues_embedding_only_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        result = asset_ingest(
            ip=IPFactory(),
            kind="still",
            title="Quay at dusk",
            file_name="quay.png",
            data=png_bytes(),
            rights={"holder": "Studio", "licence": "Owned", "worldwide": True},
        )

    assert len(callbacks) == 1
    assert not AssetEmbedding.objects.filter(asset=result.asset).exists()


def test_embedding_is_idempotent_and_follows_text_changes():
    asset = AssetFactory(title="Quay at dusk", tags=["quay"])

    first, again = asset_embed(asset_id=asset.pk), asset_embed(asset_id=asset.pk)
    vector_before = AssetEmbedding.objects.get(asset=asset).vector

    assert (first, again) == (True, False)
    assert AssetEmbedding.objects.filter(asset=asset).count() == 1

    Asset.objects.filter(pk=asset.pk).update(title="Lighthouse in fog")
    changed = asset_embed(asset_id=asset.pk)

    row = AssetEmbedding.objects.get(asset=asset)
    assert changed and list(row.vector) != list(vector_before)
    assert AssetEmbedding.objects.filter(asset=asset).count() == 1


def test_offline_caption_names_the_measured_colours():
    asset = embedded_asset(
        title="Teal harbour", image=png_bytes(colour="#008080", accent="#008080")
    )

    assert asset.caption.startswith("Teal harbour. A ")
    assert "teal" in asset.caption


def test_reembed_keeps_old_vectors_serving_until_the_new_space_is_complete(settings):
    # given a catalog embedded at 768 dimensions
    ip = IPFactory()
    assets = [embedded_asset(ip=ip, title=f"Harbour lantern {n}") for n in range(3)]
    old = embedding.active_space()

    # when the configuration moves to 256 dimensions and one asset is embedded there so far
    settings.EMBEDDING_DIMENSIONS = 256
    new = embedding.configured_space()
    asset_embed(asset_id=assets[0].pk)

    # then search still runs on the complete old space, and the new one cannot go live yet
    assert embedding.active_space() == old
    assert len(search_assets(ip=ip, query="harbour lantern", on_date=ON)) == 3
    with pytest.raises(ValueError, match="missing vectors for 2"):
        embedding_space_activate(space=new)

    # when the re-embed finishes
    call_command("reembed", stdout=open("/dev/null", "w"))  # noqa: SIM115

    # then search uses the new space, every asset has a 256-d vector, the old space is gone
    new.refresh_from_db()
    assert new.is_active and new.completed_at is not None
    assert not EmbeddingSpace.objects.filter(pk=old.pk).exists()
    assert {len(e.vector) for e in AssetEmbedding.objects.all()} == {256}
    hits = search_assets(ip=ip, query="harbour lantern", on_date=ON)
    assert {hit.asset for hit in hits} == set(assets)
    assert all(hit.vector_rank for hit in hits)


def test_a_real_worker_embeds_an_upload_after_commit(start_worker):
    # given a running Celery worker
    start_worker()

    # when a catalog admin's upload commits
    result = asset_ingest(
        ip=IPFactory(),
        kind="still",
        title="Gulls over the bay",
        file_name="gulls.png",
        data=png_bytes(colour="#1f6f8b"),
        rights={"holder": "Studio", "licence": "Owned", "worldwide": True},
    )

    # then the worker captions and embeds it, and search finds it
    wait_until(
        lambda: AssetEmbedding.objects.filter(asset=result.asset).exists(),
        timeout=60,
        message="the worker never embedded the upload",
    )
    result.asset.refresh_from_db()
    assert "Gulls over the bay. A " in result.asset.caption
    hits = search_assets(ip=result.asset.ip, query="gulls", on_date=ON)
    assert [hit.asset for hit in hits] == [result.asset]
