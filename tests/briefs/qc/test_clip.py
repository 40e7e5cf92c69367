"""Clip QC: each FFmpeg detector finds its defect, with the time it happens, on hand-made clips."""

from __future__ import annotations

import os
import random

import pytest
from PIL import Image

from briefs.qc import UnreadableClip, qc_clip
from studio.ai import media
from tests.briefs.qc import clips
from tests.briefs.qc.clips import FPS

SCENE = clips.scene()
GOOD = clips.pan(SCENE)


def judge(video: bytes, **options):
    return qc_clip(video, **({"expected_duration_s": 4, "aspect_ratio": "16:9"} | options))


def failed(report, check: str):
    return [f for f in report.failed if f.check == check]


def span(finding) -> tuple[float, float]:
    return finding.start_s, finding.end_s


@pytest.fixture(scope="module")
def clean_report():
    return judge(clips.encode(GOOD))


def test_a_clean_pan_has_no_failed_finding(clean_report):
    assert clean_report.failed == ()
    assert clean_report.passed
    checks = {f.check for f in clean_report.findings}
    assert {"black", "frozen", "flicker", "cut", "blank", "noise", "letterbox"} <= checks
    assert {"duration", "aspect"} <= checks


def test_a_clip_black_for_its_first_second_has_a_black_finding_covering_0_to_1_s():
    video = clips.encode(lambda i: clips.black() if i < FPS else GOOD(i))

    report = judge(video)

    (black,) = failed(report, "black")
    assert span(black) == pytest.approx((0.0, 1.0), abs=0.01)
    assert "black from 0.00 s to 1.00 s" in black.reason
    assert not report.passed


def test_black_in_the_middle_and_at_the_end_are_each_found_where_they_are():
    def frame(i: int) -> Image.Image:
        return clips.black() if 18 <= i < 24 or i >= 36 else GOOD(i)

    report = judge(clips.encode(frame))

    spans = [span(f) for f in failed(report, "black")]
    assert spans == [pytest.approx((1.5, 2.0), abs=0.01), pytest.approx((3.0, 4.0), abs=0.01)]
    # The jumps into and out of black are the black finding's, not cuts or a frozen picture.
    assert failed(report, "cut") == [] and failed(report, "frozen") == []


def test_a_clip_frozen_after_two_seconds_is_frozen_from_then_to_its_end():
    report = judge(clips.encode(lambda i: GOOD(min(i, 2 * FPS))))

    (frozen,) = failed(report, "frozen")
    start, end = span(frozen)
    assert 2.0 <= start <= 2.2 and end == pytest.approx(4.0)


def test_strobing_brightness_is_flicker_over_the_strobing_stretch():
    def frame(i: int) -> Image.Image:
        strobing = FPS <= i < 3 * FPS and i % 2
        return clips.brighter(GOOD(i), 1.15) if strobing else GOOD(i)

    report = judge(clips.encode(frame))

    (flicker,) = failed(report, "flicker")
    start, end = span(flicker)
    assert 0.9 <= start <= 1.2 and 2.8 <= end <= 3.1
    assert flicker.value >= 5


def test_a_single_brightness_change_is_not_flicker():
    report = judge(clips.encode(lambda i: clips.brighter(GOOD(i), 1.15 if i >= 24 else 1)))

    assert failed(report, "flicker") == []


def test_a_cut_to_another_scene_mid_shot_is_found_at_its_time():
    elsewhere = clips.pan(clips.other_scene())

    report = judge(clips.encode(lambda i: GOOD(i) if i < 30 else elsewhere(i)))

    (cut,) = failed(report, "cut")
    assert cut.end_s == pytest.approx(2.5, abs=0.01)
    assert "2.50 s" in cut.reason


def test_four_by_three_pillarboxed_in_a_sixteen_by_nine_frame_is_found():
    report = judge(clips.encode(lambda i: clips.boxed(GOOD(i), (240, 180))))

    (boxed,) = failed(report, "letterbox")
    assert "pillarboxed" in boxed.reason and "1.33:1" in boxed.reason
    assert span(boxed) == (0.0, 4.0)
    assert report.findings[[f.check for f in report.findings].index("aspect")].passed


def test_a_scope_picture_letterboxed_in_a_sixteen_by_nine_frame_is_found():
    report = judge(clips.encode(lambda i: clips.boxed(GOOD(i), (320, 134))))

    (boxed,) = failed(report, "letterbox")
    assert "letterboxed" in boxed.reason


def test_a_dark_scene_is_not_mistaken_for_letterbox_or_black(clean_report):
    dim = clips.pan(clips.brighter(SCENE, 0.45))

    report = judge(clips.encode(dim))

    assert report.failed == ()


def test_a_short_clip_and_a_portrait_clip_fail_duration_and_aspect():
    short = judge(clips.encode(GOOD, count=30))
    tall_scene = clips.scene(size=(300, 480))
    portrait = judge(clips.encode(clips.pan(tall_scene, size=(180, 320)), size=(180, 320)))

    assert [f.value for f in failed(short, "duration")] == [2.5]
    assert [f.check for f in portrait.failed] == ["aspect"]


def test_a_flat_picture_is_blank_and_fresh_noise_every_frame_is_noise():
    flat = judge(clips.encode(lambda i: Image.new("RGB", clips.SIZE, (120, 130, 140))))
    rng = random.Random(5)
    noise = judge(
        clips.encode(lambda i: Image.frombytes("RGB", clips.SIZE, rng.randbytes(320 * 180 * 3)))
    )

    assert span(failed(flat, "blank")[0]) == pytest.approx((0.0, 4.0))
    assert failed(noise, "noise") and not failed(noise, "blank")


def test_silence_fails_when_audio_is_expected_and_only_then():
    video = clips.encode(GOOD, samples=clips.tone(4, silent=[(1.0, 3.0)]))

    expected = judge(video, expect_audio=True)
    unspecified = judge(video)

    (silence,) = failed(expected, "silence")
    start, end = span(silence)
    assert 0.9 <= start <= 1.1 and 2.9 <= end <= 3.1
    assert failed(unspecified, "silence") == []
    assert [f for f in unspecified.findings if f.check == "silence"]


def test_a_clip_without_audio_fails_when_audio_is_expected():
    report = judge(clips.encode(GOOD), expect_audio=True)

    assert [f.check for f in report.failed] == ["audio"]


def test_clean_audio_passes_clipping_and_loudness():
    report = judge(clips.encode(GOOD, samples=clips.tone(4, amplitude=0.1)), expect_audio=True)

    assert report.failed == ()
    assert {"silence", "clipping", "loudness"} <= {f.check for f in report.findings}


def test_clipped_audio_fails_clipping_and_loudness():
    report = judge(clips.encode(GOOD, samples=clips.tone(4, amplitude=4.0)), expect_audio=True)

    assert failed(report, "clipping") and failed(report, "loudness")
    assert "too loud" in failed(report, "loudness")[0].reason


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"), (b"not a video at all" * 50, "not a readable video")],
)
def test_bytes_that_are_not_a_video_are_unreadable(data, message):
    with pytest.raises(UnreadableClip, match=message):
        judge(data)


def test_a_truncated_clip_is_unreadable():
    video = clips.encode(GOOD)

    with pytest.raises(UnreadableClip):
        judge(video[: len(video) // 2])


def test_a_clean_640x360_clip_is_checked_quickly():
    big = clips.encode(clips.pan(SCENE, size=(640, 360)), size=(640, 360))

    report = judge(big)

    assert report.passed
    # The target is 0.5 s on an idle 2-core machine; the suite shares its cores, hence the room.
    assert report.elapsed_ms < float(os.environ.get("QC_TEST_BUDGET_MS", "1500"))


def test_an_offline_take_with_ambience_passes_the_audio_checks():
    video = media.render_clip(
        prompt="Mira waits on the quay. tense mood.",
        camera="slow push-in",
        duration_s=4,
        aspect_ratio="16:9",
        seed=2,
        palette=("#0f3d4c", "#f5b942"),
        reference_images=(),
        size_short_side=180,
        mood="tense",
    )

    report = judge(video, expect_audio=True)

    assert report.has_audio and report.failed == ()
    loudness = next(f for f in report.findings if f.check == "loudness")
    assert -36 < loudness.value < -10
