"""`manage.py qc_clip`: a table, then one JSON line; exit 0 when judged, 2 when unreadable."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tests.briefs.qc import clips
from tests.briefs.qc.clips import FPS
from tests.factories.retrieval import AssetFactory

SCENE = clips.scene()


def run(*args: str) -> tuple[str, dict]:
    out = io.StringIO()
    call_command("qc_clip", *args, stdout=out)
    text = out.getvalue().strip()
    return text, json.loads(text.splitlines()[-1])


def png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def clean_clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "clean.mp4"
    path.write_bytes(clips.encode(clips.pan(SCENE)))
    return path


def test_a_clean_clip_prints_a_table_then_a_passing_json_line(clean_clip):
    text, verdict = run(str(clean_clip))

    assert verdict["passed"] is True
    assert {f["check"] for f in verdict["findings"]} >= {"black", "frozen", "cut", "letterbox"}
    first = verdict["findings"][0]
    assert set(first) == {"check", "passed", "value", "limit", "start_s", "end_s", "reason"}
    assert "check" in text.splitlines()[1] and "PASSED" in text


def test_a_clip_black_at_its_start_fails_with_the_time_range_in_the_json(tmp_path):
    path = tmp_path / "late.mp4"
    good = clips.pan(SCENE)
    path.write_bytes(clips.encode(lambda i: clips.black() if i < FPS else good(i)))

    text, verdict = run(str(path), "--duration", "4", "--aspect", "16:9")

    assert verdict["passed"] is False
    black = [f for f in verdict["findings"] if f["check"] == "black" and not f["passed"]]
    assert [(f["start_s"], f["end_s"]) for f in black] == [(0.0, 1.0)]
    assert "FAIL" in text and "black from 0.00 s to 1.00 s" in text


@pytest.mark.django_db
def test_references_from_the_catalog_add_identity_and_palette(clean_clip):
    own = AssetFactory(image=png(SCENE), title="The harbour at night")
    stranger = AssetFactory(image=png(clips.other_scene()), title="The harbour office")

    _, with_own = run(str(clean_clip), "--reference", str(own.pk), "--prompt", "a slow pan")
    _, with_stranger = run(str(clean_clip), "--reference", str(stranger.pk))

    checks = {f["check"]: f for f in with_own["findings"]}
    assert checks["identity"]["passed"] and with_own["passed"]
    # With a prompt the configured critic (offline: LocalCritic) judges sampled frames too.
    assert checks["critic"]["passed"] and checks["critic"]["value"] > 0.45
    assert "identity" in {f["check"] for f in with_stranger["findings"] if not f["passed"]}
    assert "critic" not in {f["check"] for f in with_stranger["findings"]}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        (b"", "the file is empty"),
        (b"<html>not a video</html>" * 40, "not a readable video"),
    ],
)
def test_a_file_that_is_not_a_video_exits_2_with_one_clear_line(tmp_path, content, message):
    path = tmp_path / "clip.mp4"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(CommandError, match=message) as raised:
        call_command("qc_clip", str(path))

    assert raised.value.returncode == 2
    assert "\n" not in str(raised.value)


def test_the_command_exits_0_for_a_judged_clip_and_2_for_a_truncated_one(clean_clip, tmp_path):
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(clean_clip.read_bytes()[:4000])
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "tests.settings"}
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "qc_clip"]

    judged = subprocess.run([*manage, str(clean_clip)], capture_output=True, text=True, env=env)
    unreadable = subprocess.run([*manage, str(truncated)], capture_output=True, text=True, env=env)

    assert judged.returncode == 0, judged.stderr
    assert json.loads(judged.stdout.strip().splitlines()[-1])["passed"] is True
    assert unreadable.returncode == 2
    assert "cannot judge" in unreadable.stderr and unreadable.stdout == ""
