"""Bulk import from a folder and a manifest (docs/catalog-import.md describes the format)."""

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from retrieval.models import IP, Asset, Character
from retrieval.services import AssetRejected, asset_ingest
from retrieval.validation import ContentRejected, check_size

TRUE_WORDS = {"1", "true", "yes", "y"}


class ManifestError(ValueError):
    """The manifest itself is unusable (missing, unreadable, wrong shape)."""


@dataclass
class ImportSummary:
    added: list[str] = field(default_factory=list)
    versioned: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"added {len(self.added)}, new versions {len(self.versioned)}, "
            f"skipped {len(self.skipped)}, rejected {len(self.rejected)}"
        ]
        out += [f"  skipped  {row}: {why}" for row, why in self.skipped]
        out += [f"  rejected {row}: {why}" for row, why in self.rejected]
        return out


def load_manifest(folder: Path) -> dict:
    """Read manifest.json or manifest.csv from `folder` into the JSON shape."""
    if (folder / "manifest.json").exists():
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ManifestError(f"manifest.json is not valid JSON: {exc}") from exc
        if not isinstance(manifest, dict) or not isinstance(manifest.get("assets"), list):
            raise ManifestError('manifest.json needs an "assets" list.')
        return manifest
    if (folder / "manifest.csv").exists():
        with (folder / "manifest.csv").open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        return {"assets": [_csv_row(row) for row in rows]}
    raise ManifestError(f"No manifest.json or manifest.csv in {folder}.")


def _csv_row(row: dict) -> dict:
    def listed(name: str) -> list[str]:
        return [part.strip() for part in (row.get(name) or "").split(";") if part.strip()]

    return {
        "id": row.get("id", ""),
        "ip": row.get("ip", ""),
        "file": row.get("file", ""),
        "kind": row.get("kind", ""),
        "title": row.get("title", ""),
        "description": row.get("description", ""),
        "tags": listed("tags"),
        "characters": listed("characters"),
        "rights": {
            "holder": row.get("holder", ""),
            "licence": row.get("licence", ""),
            "worldwide": (row.get("worldwide") or "").strip().lower() in TRUE_WORDS,
            "territories": listed("territories"),
            "valid_from": row.get("valid_from") or None,
            "valid_until": row.get("valid_until") or None,
            "reference_use_allowed": (row.get("reference_use_allowed") or "true").strip().lower()
            in TRUE_WORDS,
            "notes": row.get("notes", ""),
        },
    }


def import_catalog(
    folder: Path, *, created_by=None, progress: Callable[[int], None] | None = None
) -> ImportSummary:
    """Import every manifest row; safe to re-run (rows already imported are skipped)."""
    folder = Path(folder)
    manifest = load_manifest(folder)
    default_ip = _upsert_ip(manifest["ip"]) if manifest.get("ip") else None
    if default_ip:
        _upsert_characters(default_ip, manifest.get("characters", []))
    summary = ImportSummary()
    root = folder.resolve()
    for number, row in enumerate(manifest["assets"], start=1):
        label = str(row.get("id") or row.get("file") or f"row {number}")
        try:
            _import_row(root, row, label, default_ip, created_by, summary)
        except AssetRejected as exc:
            summary.rejected.append((label, exc.reason))
        if progress:
            progress(1)
    return summary


@transaction.atomic
def _upsert_ip(data: dict) -> IP:
    ip, _ = IP.objects.update_or_create(
        slug=data["slug"],
        defaults={
            key: data[key] for key in ("name", "logline", "style_notes", "palette") if key in data
        },
    )
    return ip


@transaction.atomic
def _upsert_characters(ip: IP, characters: list[dict]) -> None:
    for data in characters:
        Character.objects.update_or_create(
            ip=ip,
            slug=data["slug"],
            defaults={
                key: data[key] for key in ("name", "description", "visual_traits") if key in data
            },
        )


def _import_row(
    root: Path, row: dict, label: str, default_ip: IP | None, created_by, summary: ImportSummary
) -> None:
    ip = default_ip
    if row.get("ip"):
        ip = IP.objects.filter(slug=row["ip"]).first()
        if ip is None:
            raise AssetRejected(f"no IP with slug {row['ip']!r} (create it first)")
    if ip is None:
        raise AssetRejected("no IP: give the manifest an 'ip' object or the row an 'ip' slug")
    if not row.get("id"):
        raise AssetRejected("every row needs an id (it makes re-runs idempotent)")
    path = (root / str(row.get("file", ""))).resolve()
    if not row.get("file") or not path.is_relative_to(root) or not path.is_file():
        raise AssetRejected(f"file {row.get('file')!r} not found inside the import folder")
    try:
        check_size(path.stat().st_size)
    except ContentRejected as exc:
        raise AssetRejected(str(exc)) from exc
    slugs = row.get("characters") or []
    characters = list(Character.objects.filter(ip=ip, slug__in=slugs))
    if len(characters) != len(set(slugs)):
        missing = set(slugs) - {c.slug for c in characters}
        raise AssetRejected(f"unknown characters: {', '.join(sorted(missing))}")
    previous = Asset.objects.filter(
        ip=ip, is_current=True, provenance__manifest_id=str(row["id"])
    ).first()
    result = asset_ingest(
        ip=ip,
        kind=row.get("kind", ""),
        title=row.get("title", ""),
        file_name=path.name,
        data=path.read_bytes(),
        description=row.get("description", ""),
        tags=row.get("tags") or (),
        characters=characters,
        rights=row.get("rights"),
        created_by=created_by,
        provenance={"manifest_id": str(row["id"])},
        replaces=previous,
    )
    summary.assets.append(result.asset)
    if result.deduplicated:
        summary.skipped.append((label, f"already in the catalog as {result.asset}"))
    elif previous is not None:
        summary.versioned.append(label)
    else:
        summary.added.append(label)
