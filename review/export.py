"""Export a brief's approved cut: media, manifest (the provenance of every frame), CSV, OTIO."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import time
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from typing import IO

import opentimelineio as otio
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.text import slugify

from briefs.models import Brief, Take
from review.cut import clip_has_audio
from review.selectors import approved_takes
from review.services import ReviewError
from review.signoff import sign_off
from studio.roles import Role
from teams.selectors import has_ip_role

# Editors' default timeline rate; clips are placed by their measured duration at this rate.
TIMELINE_RATE = 24
# Media is copied into the archive in pieces this big, so no clip is ever held whole in memory.
COPY_CHUNK_BYTES = 1024 * 1024
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportArchive:
    filename: str
    file: IO[bytes]
    take_count: int


def _who(user) -> str:
    return user.get_full_name() or user.get_username()


def _rights(asset) -> dict | None:
    rights = getattr(asset, "rights", None)
    if rights is None:
        return None
    return {
        "holder": rights.holder,
        "licence": rights.licence,
        "worldwide": rights.worldwide,
        "territories": list(rights.territories),
        "valid_from": rights.valid_from.isoformat() if rights.valid_from else None,
        "valid_until": rights.valid_until.isoformat() if rights.valid_until else None,
        "reference_use_allowed": rights.reference_use_allowed,
    }


def _media_name(take: Take) -> str:
    return f"media/shot-{take.shot.order:02d}-take-{take.number:02d}.mp4"


def _signed_off_by(take: Take, needed: int) -> list[str]:
    """Name who approved the take: each standing approval, else the lead who ruled it approved."""
    state = sign_off(take.decision_trail, needed=needed)
    if state.approvals:
        return [_who(decision.user) for decision in state.approvals]
    ruled = state.ruling is not None and state.ruling.verdict == "approved"
    return [_who(state.ruling.user)] if ruled else []


def _take_entry(take: Take, media_name: str, sha256: str, needed: int, has_audio: bool) -> dict:
    return {
        "shot": {
            "id": take.shot.pk,
            "order": take.shot.order,
            "camera": take.shot.camera,
            "duration_s": take.shot.duration_s,
        },
        "take": {
            "id": take.pk,
            "number": take.number,
            "parent_take_id": take.parent_id,
            "prompt": take.prompt,
            "negative_prompt": take.negative_prompt,
            "audio": take.audio,
            "config": take.config,
            "provider": take.provider,
            "model": take.model,
            "seed": take.seed,
            "duration_s": take.duration_s,
            "width": take.width,
            "height": take.height,
            "created_at": take.created_at.isoformat(),
            "created_by": _who(take.created_by) if take.created_by else "pipeline",
        },
        "media": {
            "path": media_name,
            "sha256": sha256,
            "bytes": take.byte_size,
            "has_audio": has_audio,
        },
        "references": [
            {
                "asset_id": ref.pk,
                "title": ref.title,
                "kind": ref.kind,
                "version": ref.version,
                "sha256": ref.sha256,
                "rights": _rights(ref),
            }
            for ref in take.reference_list
        ],
        "checks": {
            "passed": take.checks_passed,
            "confidence": take.confidence,
            "findings": take.checks,
        },
        "decisions": [
            {
                "verdict": d.verdict,
                "reason": d.reason,
                "reason_text": d.reason_text,
                "checklist": d.checklist,
                "by": _who(d.user),
                "username": d.user.get_username(),
                "at": d.created_at.isoformat(),
                "take_version": d.take_version,
                "applied": d.applied,
                "effect": d.effect,
            }
            for d in take.decision_trail
        ],
        "signed_off_by": _signed_off_by(take, needed),
        "notes": [
            {
                "body": n.body,
                "timecode_start": n.timecode_start,
                "timecode_end": n.timecode_end,
                "rect": n.rect,
                "about_sound": n.about_sound,
                "by": _who(n.user),
                "at": n.created_at.isoformat(),
            }
            for n in take.timeline_notes
        ],
        "cost": str(take.cost),
    }


def _timeline(brief: Brief, takes: list[Take], with_audio: dict[int, bool]) -> str:
    """Lay the takes end to end on V1; when any has sound, A1 carries it (gaps where silent)."""
    timeline = otio.schema.Timeline(name=brief.title)
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    timeline.tracks.append(video)
    for take in takes:
        seconds = take.duration_s or take.shot.duration_s
        length = otio.opentime.RationalTime(round(seconds * TIMELINE_RATE), TIMELINE_RATE)
        available = otio.opentime.TimeRange(otio.opentime.RationalTime(0, TIMELINE_RATE), length)
        name = f"Shot {take.shot.order} · take {take.number}"
        metadata = {"studio": {"brief_id": brief.pk, "shot_id": take.shot_id, "take_id": take.pk}}
        video.append(_clip(name, take, available, metadata))
        if with_audio[take.pk]:
            audio.append(_clip(name, take, available, metadata))
        else:
            # A silent take keeps its place, so every later clip's sound stays in sync.
            audio.append(otio.schema.Gap(source_range=available))
    if any(with_audio.values()):
        timeline.tracks.append(audio)
    return otio.adapters.write_to_string(timeline, "otio_json")


def _clip(
    name: str, take: Take, available: otio.opentime.TimeRange, metadata: dict
) -> otio.schema.Clip:
    return otio.schema.Clip(
        name=name,
        media_reference=otio.schema.ExternalReference(
            target_url=_media_name(take), available_range=available
        ),
        source_range=available,
        metadata=metadata,
    )


def csv_safe(value: object) -> object:
    """Return a text cell a spreadsheet will show as text, never run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _shots_csv(entries: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "shot",
            "take",
            "duration_s",
            "media",
            "model",
            "seed",
            "prompt",
            "approved_by",
            "approved_at",
            "cost",
        ]
    )
    for entry in entries:
        approvals = [d for d in entry["decisions"] if d["applied"] and d["verdict"] == "approved"]
        last = approvals[-1] if approvals else {"by": "", "at": ""}
        # With several directors' sign-off, every signer is named, not only the last.
        signers = "; ".join(entry["signed_off_by"]) or last["by"]
        row = [
            entry["shot"]["order"],
            entry["take"]["number"],
            entry["take"]["duration_s"],
            entry["media"]["path"],
            entry["take"]["model"],
            entry["take"]["seed"],
            entry["take"]["prompt"],
            signers,
            last["at"],
            entry["cost"],
        ]
        writer.writerow([csv_safe(cell) for cell in row])
    return out.getvalue()


def _media_entry(take: Take) -> zipfile.ZipInfo:
    # Stored, not deflated: video is already compressed, deflating it again saves nothing.
    return zipfile.ZipInfo(_media_name(take), date_time=time.localtime()[:6])


def _copy_media(take: Take, archive: zipfile.ZipFile) -> str:
    """Copy a take's clip into the archive piece by piece; return its SHA-256."""
    digest = hashlib.sha256()
    with (
        take.media.open("rb") as source,
        archive.open(_media_entry(take), "w", force_zip64=True) as target,
    ):
        while chunk := source.read(COPY_CHUNK_BYTES):
            digest.update(chunk)
            target.write(chunk)
    return digest.hexdigest()


def _write_archive(file: IO[bytes], *, brief: Brief, user, takes: list[Take], slug: str) -> int:
    """Write the export zip into file; return how many takes it holds."""
    entries = []
    with_audio = {take.pk: clip_has_audio(take) for take in takes}
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for take in takes:
            entries.append(
                _take_entry(
                    take,
                    _media_name(take),
                    _copy_media(take, archive),
                    brief.approvals_needed,
                    with_audio[take.pk],
                )
            )
        manifest = {
            "format": "studio-export/1",
            "exported_at": timezone.now().isoformat(),
            "exported_by": _who(user),
            "brief": {
                "id": brief.pk,
                "title": brief.title,
                "ip": brief.ip.name,
                "beat": brief.beat,
                "tone": brief.tone,
                "sound": brief.sound,
                "aspect_ratio": brief.aspect_ratio,
                "territory": brief.territory,
                "release_date": brief.release_date.isoformat(),
                "checklist": brief.checklist,
            },
            "shot_count": brief.shot_count,
            "approved_shots": len(entries),
            "total_cost": str(sum((Decimal(e["cost"]) for e in entries), Decimal("0"))),
            "timeline": f"{slug}.otio",
            "takes": entries,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        archive.writestr("shots.csv", _shots_csv(entries))
        archive.writestr(f"{slug}.otio", _timeline(brief, takes, with_audio))
    return len(entries)


def build_export(*, brief: Brief, user) -> ExportArchive:
    """Zip the brief's approved takes with manifest.json, shots.csv and an .otio timeline.

    The zip is written to an anonymous temporary file, which closing removes.
    """
    if not has_ip_role(user, brief.ip_id, Role.PRODUCER, Role.CREATIVE_DIRECTOR):
        raise PermissionDenied("Only a producer or a creative director may export a cut.")
    takes = [take for take in approved_takes(brief=brief) if take.media]
    if not takes:
        raise ReviewError("Nothing to export yet: no shot of this brief has an approved take.")
    slug = slugify(brief.title) or f"brief-{brief.pk}"
    # The caller closes the file (FileResponse does once it is sent), which removes it.
    file = tempfile.TemporaryFile(suffix=".zip")  # noqa: SIM115
    try:
        take_count = _write_archive(file, brief=brief, user=user, takes=takes, slug=slug)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return ExportArchive(filename=f"{slug}-approved.zip", file=file, take_count=take_count)
