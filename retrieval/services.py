"""Writes for the catalog: ingest (validate, dedupe, version), embed, re-embed, restore."""

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from retrieval import embedding
from retrieval.models import IP, Asset, AssetEmbedding, Character, EmbeddingSpace, Rights
from retrieval.validation import ContentRejected, check_upload
from studio.ai import providers
from studio.celery import send_after_commit

logger = logging.getLogger(__name__)


class AssetRejected(ValueError):
    """An upload or import the catalog will not take; str(error) says why, for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IngestResult:
    asset: Asset
    created: bool
    deduplicated: bool
    notes: tuple[str, ...] = field(default=())


def asset_ingest(
    *,
    ip: IP,
    kind: str,
    title: str,
    file_name: str,
    data: bytes,
    description: str = "",
    tags: Sequence[str] = (),
    characters: Sequence[Character | int] = (),
    rights: dict | None,
    created_by=None,
    source: str = Asset.Source.UPLOAD,
    provenance: dict | None = None,
    replaces: Asset | None = None,
) -> IngestResult:
    """Validate a file by content and add it to the catalog (deduplicated, versioned, embedded).

    Raises AssetRejected before any row or file exists. Identical bytes already in the IP return
    the existing asset. `replaces` makes the new file the next version of that asset's family.
    `rights` holds Rights fields; None copies the replaced version's rights, or records none
    (an asset without rights is never cleared for anything).
    """
    if kind not in Asset.Kind.values:
        raise AssetRejected(f"Unknown asset kind {kind!r}.")
    if not title.strip():
        raise AssetRejected("An asset needs a title.")
    if replaces is not None and replaces.ip_id != ip.pk:
        raise AssetRejected("A new version must stay in the same IP as the asset it replaces.")
    existing = _asset_with_bytes(ip, data)
    if existing is not None:
        return IngestResult(asset=existing, created=False, deduplicated=True)
    character_rows = _characters_of(ip, characters)
    rights_fields = _rights_fields(rights)
    try:
        checked = check_upload(kind=kind, file_name=file_name, data=data)
    except ContentRejected as exc:
        raise AssetRejected(str(exc)) from exc
    # Images are stored re-encoded: the same picture uploaded again matches on what was stored.
    existing = _asset_with_bytes(ip, checked.data)
    if existing is not None:
        return IngestResult(asset=existing, created=False, deduplicated=True)

    written: list = []
    try:
        with transaction.atomic():
            asset = Asset(
                ip=ip,
                kind=kind,
                title=title.strip(),
                description=_with_notes(description, checked.notes),
                tags=[t.strip() for t in tags if t.strip()],
                mime_type=checked.mime_type,
                byte_size=len(checked.data),
                sha256=hashlib.sha256(checked.data).hexdigest(),
                width=checked.width,
                height=checked.height,
                duration_s=checked.duration_s,
                palette=checked.palette,
                source=source,
                provenance=provenance or {},
                created_by=created_by,
            )
            if replaces is not None:
                previous = _lock_current_version(replaces)
                asset.family, asset.previous = previous.family, previous
                asset.version = _next_version(previous.family)
                Asset.objects.filter(pk=previous.pk).update(is_current=False)
                if rights_fields is None and hasattr(previous, "rights"):
                    rights_fields = _copy_rights(previous.rights)
            asset.file.save(checked.file_name, ContentFile(checked.data), save=False)
            written.append(asset.file.name)
            if checked.thumbnail_webp:
                thumb_name = checked.file_name.rsplit(".", 1)[0] + ".webp"
                asset.thumbnail.save(thumb_name, ContentFile(checked.thumbnail_webp), save=False)
                written.append(asset.thumbnail.name)
            asset.save()
            asset.characters.set(character_rows)
            if rights_fields is not None:
                _save_rights(asset, rights_fields)
            asset_search_document_refresh(asset=asset)
            _enqueue_embedding(asset.pk)
    except Exception:
        _delete_files(written)
        raise
    return IngestResult(asset=asset, created=True, deduplicated=False, notes=tuple(checked.notes))


def _asset_with_bytes(ip: IP, data: bytes) -> Asset | None:
    sha256 = hashlib.sha256(data).hexdigest()
    return Asset.objects.filter(ip=ip, sha256=sha256).order_by("-is_current", "-version").first()


def _characters_of(ip: IP, characters: Sequence[Character | int]) -> list[Character]:
    ids = {c.pk if isinstance(c, Character) else int(c) for c in characters}
    rows = list(Character.objects.filter(ip=ip, pk__in=ids))
    if len(rows) != len(ids):
        raise AssetRejected(f"Some characters do not belong to {ip.name}.")
    return rows


_RIGHTS_FIELDS = (
    "holder",
    "licence",
    "worldwide",
    "territories",
    "valid_from",
    "valid_until",
    "reference_use_allowed",
    "notes",
)


def _rights_fields(rights: dict | None) -> dict | None:
    if rights is None:
        return None
    unknown = set(rights) - set(_RIGHTS_FIELDS)
    if unknown:
        raise AssetRejected(f"Unknown rights fields: {', '.join(sorted(unknown))}.")
    fields = {"holder": "", "licence": "", "worldwide": False, "territories": []} | rights
    fields["territories"] = [t.strip().upper() for t in fields["territories"] if t.strip()]
    if not fields["worldwide"] and not fields["territories"]:
        raise AssetRejected("Rights need either worldwide or at least one territory.")
    if any(len(t) != 2 or not t.isalpha() for t in fields["territories"]):
        raise AssetRejected("Territories are ISO 3166-1 alpha-2 codes such as GB or FR.")
    for key in ("valid_from", "valid_until"):
        value = fields.get(key)
        if isinstance(value, str):
            try:
                fields[key] = date.fromisoformat(value) if value else None
            except ValueError as exc:
                raise AssetRejected(f"Rights {key} {value!r} is not a YYYY-MM-DD date.") from exc
    start, end = fields.get("valid_from"), fields.get("valid_until")
    if start and end and end < start:
        raise AssetRejected(f"Rights end ({end}) before they start ({start}).")
    if not fields["holder"] or not fields["licence"]:
        raise AssetRejected("Rights need a holder and a licence.")
    return fields


def _copy_rights(rights: Rights) -> dict:
    return {name: getattr(rights, name) for name in _RIGHTS_FIELDS}


def _save_rights(asset: Asset, fields: dict) -> None:
    Rights.objects.update_or_create(asset=asset, defaults=fields)


def _lock_current_version(asset: Asset) -> Asset:
    current = (
        Asset.objects.select_for_update()
        .filter(family=asset.family, is_current=True)
        .order_by()
        .first()
    )
    if current is None:
        raise AssetRejected(f"{asset} has no current version to replace.")
    return current


def _next_version(family) -> int:
    return (Asset.objects.filter(family=family).aggregate(top=Max("version"))["top"] or 0) + 1


def _with_notes(description: str, notes: Iterable[str]) -> str:
    notes = list(notes)
    if not notes:
        return description.strip()
    return (description.strip() + "\n\n" if description.strip() else "") + (
        "Normalised on upload: " + "; ".join(notes) + "."
    )


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        default_storage.delete(name)


EMBED_TASK = "retrieval.embed_asset"


def _enqueue_embedding(asset_id: int) -> None:
    send_after_commit(EMBED_TASK, asset_id)


@transaction.atomic
def asset_restore_version(*, asset: Asset, restored_by=None) -> Asset:
    """Make an older version current again (the newer ones stay, as history)."""
    current = _lock_current_version(asset)
    if current.pk == asset.pk:
        return current
    Asset.objects.filter(pk=current.pk).update(is_current=False)
    Asset.objects.filter(pk=asset.pk).update(is_current=True)
    asset.refresh_from_db()
    _enqueue_embedding(asset.pk)
    logger.info("asset %s restored to v%s by %s", asset.family, asset.version, restored_by)
    return asset


def asset_search_document_refresh(*, asset: Asset) -> None:
    """Rebuild the asset's weighted full-text document (title and tags weigh most)."""
    characters = " ".join(
        f"{c.name} {c.visual_traits}" for c in Character.objects.filter(assets=asset)
    )
    ip = asset.ip
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE retrieval_asset SET search_document =
                setweight(to_tsvector('english', %s), 'A')
                || setweight(to_tsvector('english', %s), 'B')
                || setweight(to_tsvector('english', %s), 'C')
                || setweight(to_tsvector('english', %s), 'D')
            WHERE id = %s
            """,
            [
                f"{asset.title} {' '.join(asset.tags)}",
                characters,
                f"{asset.description} {asset.caption}",
                f"{ip.name} {asset.get_kind_display()}",
                asset.pk,
            ],
        )


def asset_embed(*, asset_id: int) -> bool:
    """Caption (if needed) and embed an asset in every target space; False when already done.

    Idempotent: a space whose vector was made from the same text is left alone, so a re-run or
    a duplicate message costs nothing, and an edited title or tag re-embeds.
    """
    asset = (
        Asset.objects.select_related("ip")
        .prefetch_related("characters")
        .filter(pk=asset_id)
        .first()
    )
    if asset is None:
        return False
    if not asset.caption:
        is_text = asset.kind == Asset.Kind.STYLE_GUIDE
        asset.caption = _style_guide_excerpt(asset) if is_text else _caption(asset)
        if asset.caption:
            Asset.objects.filter(pk=asset.pk).update(caption=asset.caption)
    asset_search_document_refresh(asset=asset)
    text = embedding.asset_search_text(asset)
    digest = embedding.text_sha256(text)
    changed = False
    for space in embedding.target_spaces():
        done = AssetEmbedding.objects.filter(asset=asset, space=space, text_sha256=digest)
        if done.exists():
            continue
        [vector] = embedding.embedder_for(space).embed([text], task="document")
        AssetEmbedding.objects.update_or_create(
            asset=asset, space=space, defaults={"vector": vector, "text_sha256": digest}
        )
        changed = True
    return changed


def _caption(asset: Asset) -> str:
    """Describe the picture (the thumbnail stands in for clips) for search."""
    source = asset.thumbnail or asset.file
    if not source:
        return ""
    try:
        with source.open("rb") as handle:
            image_bytes = handle.read()
        return providers.get_captioner().caption(image_bytes, hint=asset.title)
    except (OSError, ValueError) as exc:
        logger.warning("could not caption asset %s: %s", asset.pk, exc)
        return ""


def _style_guide_excerpt(asset: Asset) -> str:
    try:
        with asset.file.open("rb") as handle:
            return handle.read(4000).decode("utf-8", errors="ignore").strip()
    except OSError:
        return ""


def embedding_space_build(
    *, batch_size: int = 64, progress: Callable[[int], None] | None = None
) -> EmbeddingSpace:
    """Embed every current asset in the configured space, then make it the active one.

    The previously active space keeps serving searches until the switch, which happens in one
    transaction once every current asset has a vector in the new space; the old space is then
    dropped with its index.
    """
    space = embedding.configured_space()
    pending = Asset.objects.filter(is_current=True).exclude(embeddings__space=space)
    for asset_id in pending.values_list("pk", flat=True).iterator(chunk_size=batch_size):
        asset_embed(asset_id=asset_id)
        if progress:
            progress(1)
    return embedding_space_activate(space=space)


@transaction.atomic
def embedding_space_activate(*, space: EmbeddingSpace) -> EmbeddingSpace:
    """Switch search to `space` when complete; drop the spaces it replaces."""
    space = EmbeddingSpace.objects.select_for_update().get(pk=space.pk)
    missing = Asset.objects.filter(is_current=True).exclude(embeddings__space=space).count()
    if missing:
        raise ValueError(f"{space} is missing vectors for {missing} current assets.")
    old = list(EmbeddingSpace.objects.exclude(pk=space.pk))
    EmbeddingSpace.objects.filter(is_active=True).exclude(pk=space.pk).update(is_active=False)
    space.is_active = True
    space.completed_at = space.completed_at or timezone.now()
    space.save(update_fields=["is_active", "completed_at"])
    for retired in old:
        embedding.drop_space_index(retired)
        retired.delete()
    return space
