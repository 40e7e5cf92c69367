"""Run Studio's clip checks on any video file: a table for people, then one JSON line."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from briefs.qc import ClipReport, UnreadableClip, qc_clip
from briefs.qc.critic import critic_findings
from retrieval.models import Asset
from studio.ai import media, providers
from studio.ai.types import ProviderError, Reference

# Exit status when the clip itself cannot be read (a judged clip exits 0, pass or fail).
UNREADABLE = 2


class Command(BaseCommand):
    help = (
        "Check a clip for black, frozen, flickering, cut, boxed, blank or noisy stretches, "
        "duration, aspect, audio, and (with --reference) identity and palette. Prints a table, "
        'then as its last line {"passed": bool, "findings": [...]}. Exit 0 when the clip was '
        "judged, 2 when it cannot be read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the video file to check")
        parser.add_argument("--aspect", default="16:9", help="expected aspect ratio, e.g. 16:9")
        parser.add_argument("--duration", type=float, default=4.0, help="expected seconds")
        parser.add_argument(
            "--reference",
            type=int,
            action="append",
            default=[],
            metavar="ASSET_ID",
            help="a catalog asset the clip should look like (repeatable)",
        )
        parser.add_argument(
            "--prompt", default="", help="the shot's prompt: also ask the configured critic"
        )
        parser.add_argument("--negative-prompt", default="", help="what the shot must avoid")
        parser.add_argument(
            "--expect-audio",
            action="store_true",
            default=None,
            help="treat silence or a missing audio track as a fault",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        try:
            video = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                f"cannot read {path}: {exc.strerror or exc}", returncode=UNREADABLE
            ) from exc
        _check_aspect(options["aspect"])
        assets = _assets(options["reference"])
        palette = list(dict.fromkeys(c for a in assets for c in [*a.palette, *a.ip.palette]))
        with tempfile.TemporaryDirectory(prefix="qc-clip-") as folder:
            references = [_local_copy(asset, Path(folder)) for asset in assets]
            try:
                report = qc_clip(
                    video,
                    expected_duration_s=options["duration"],
                    aspect_ratio=options["aspect"],
                    expect_audio=options["expect_audio"],
                    reference_images=[r for r in references if r],
                    palette=palette,
                )
            except UnreadableClip as exc:
                raise CommandError(f"cannot judge {path}: {exc}", returncode=UNREADABLE) from exc
            if options["prompt"]:
                report = self._with_critic(video, report, assets, references, options)
        self._print_table(path, report, options["prompt"])
        self.stdout.write(json.dumps(report.as_dict()))

    def _with_critic(
        self,
        video: bytes,
        report: ClipReport,
        assets: list[Asset],
        references: list[str | None],
        options: dict[str, Any],
    ) -> ClipReport:
        """Add the configured critic's findings; an unreachable critic is a note, not a fault."""
        critic = providers.get_critic()
        frames = media.sample_frames(video)
        try:
            critique = critic.critique(
                prompt=options["prompt"],
                poster_png=media.poster_png(video),
                references=[
                    Reference(a.pk, a.title, a.description, path, tuple(a.palette))
                    for a, path in zip(assets, references, strict=True)
                ],
                frames=frames,
                negative_prompt=options["negative_prompt"],
            )
        except ProviderError as exc:
            self.stderr.write(f"critic {critic.model} not consulted: {exc}")
            return report
        findings = (*report.findings, *critic_findings(critique, end_s=report.duration_s))
        return dataclasses.replace(report, findings=findings)

    def _print_table(self, path: Path, report: ClipReport, prompt: str) -> None:
        verdict = "PASSED" if report.passed else f"FAILED ({len(report.failed)} finding(s))"
        audio = "with audio" if report.has_audio else "no audio"
        self.stdout.write(
            f"{path}: {report.width}x{report.height}, {report.duration_s:.2f} s, {audio}; "
            f"checked in {report.elapsed_ms:.0f} ms"
        )
        if prompt:
            self.stdout.write(f"prompt: {prompt}")
        rows = [("check", "result", "value", "limit", "when", "reason")]
        for finding in report.findings:
            when = (
                f"{finding.start_s:.2f}-{finding.end_s:.2f} s"
                if finding.start_s is not None and finding.end_s is not None
                else ""
            )
            rows.append(
                (
                    finding.check,
                    "ok" if finding.passed else "FAIL",
                    "" if finding.value is None else str(finding.value),
                    finding.limit,
                    when,
                    finding.reason if not finding.passed else "",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[5]]).rstrip())
        self.stdout.write(verdict)


def _check_aspect(aspect: str) -> None:
    sides = aspect.split(":")
    if len(sides) != 2 or not all(side.isdigit() and int(side) > 0 for side in sides):
        raise CommandError(f"--aspect must look like 16:9, not {aspect!r}")


def _assets(ids: list[int]) -> list[Asset]:
    assets = {a.pk: a for a in Asset.objects.select_related("ip").filter(pk__in=ids)}
    if missing := [i for i in ids if i not in assets]:
        raise CommandError(f"no catalog asset with id {', '.join(map(str, missing))}")
    return [assets[i] for i in ids]


def _local_copy(asset: Asset, folder: Path) -> str | None:
    """Copy the asset's picture out of storage (which may be remote) into the folder."""
    field = asset.thumbnail or (asset.file if asset.mime_type.startswith("image/") else None)
    if not field:
        return None
    target = folder / f"{asset.pk}{Path(field.name).suffix}"
    with field.open("rb") as handle:
        target.write_bytes(handle.read())
    return str(target)
