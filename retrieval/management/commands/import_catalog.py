"""Import catalog assets from a folder with manifest.json or manifest.csv."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from retrieval.importer import ManifestError, import_catalog, load_manifest


class Command(BaseCommand):
    help = (
        "Import a folder of assets described by manifest.json or manifest.csv (see "
        "docs/catalog-import.md). Re-running is safe: rows already imported are skipped."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path, help="Folder holding the manifest and the files.")

    def handle(self, *args, path: Path, **options) -> None:
        try:
            total = len(load_manifest(path)["assets"])
            with tqdm(total=total, unit="file", file=self.stderr) as bar:
                summary = import_catalog(path, progress=bar.update)
        except ManifestError as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
        if summary.rejected:
            self.stdout.write(self.style.WARNING(f"{len(summary.rejected)} rows were rejected."))
        else:
            self.stdout.write(self.style.SUCCESS("Import complete."))
