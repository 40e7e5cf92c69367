"""Identity and palette: frames are compared with the shot's reference pictures and palette."""

from __future__ import annotations

import random

import pytest
from PIL import Image

from briefs.qc import identity, qc_clip
from retrieval import demo
from studio.ai import media
from tests.briefs.qc import clips

PALETTE = ("#0f3d4c", "#1f6f8b", "#f5b942", "#e8dcc2", "#b5523b")


@pytest.fixture
def references(tmp_path) -> dict[str, str]:
    paths = {}
    for name, picture in {"harbour": clips.scene(), "office": clips.other_scene()}.items():
        paths[name] = str(tmp_path / f"{name}.png")
        picture.save(paths[name])
    return paths


def sampled(picture: Image.Image, grade: float = 1.0) -> list[Image.Image]:
    """Return eight frames of a pan over the picture, graded, at the QC's analysis size."""
    frame = clips.pan(clips.brighter(picture, grade), frames=8)
    return [frame(i).resize((160, 90)) for i in range(8)]


def test_a_pan_over_the_reference_is_on_model_even_when_graded_darker(references):
    finding = identity.identity_finding(
        sampled(clips.scene(), grade=0.6), [references["harbour"]], end_s=4.0
    )

    assert finding.passed and finding.value > 0.8


def test_frames_of_another_picture_fail_identity_over_the_whole_clip(references):
    finding = identity.identity_finding(
        sampled(clips.other_scene()), [references["harbour"]], end_s=4.0
    )

    assert not finding.passed
    assert (finding.start_s, finding.end_s) == (0.0, 4.0)
    assert "do not look like the shot's references" in finding.reason


def test_a_take_using_part_of_the_palette_passes_where_the_symmetric_distance_rejected_it():
    # Night-harbour frames use the teal, blue and gold of the palette but no cream or rust.
    frames = sampled(clips.scene())
    sheet_colours = media.weighted_colours(media.contact_sheet(frames))

    finding = identity.palette_finding(frames, PALETTE, (), end_s=4.0)

    assert media.palette_distance([c for c, _ in sheet_colours], PALETTE) > 0.23
    assert finding.passed


def test_a_hue_turned_take_strays_from_the_palette(references, settings):
    settings.PIPELINE_QC_PALETTE_ROUTES = True  # off by default: palette does not separate
    frames = [
        Image.merge("HSV", (h.point(lambda v: (v + 90) % 256), s, v)).convert("RGB")
        for h, s, v in (frame.convert("HSV").split() for frame in sampled(clips.scene()))
    ]

    finding = identity.palette_finding(frames, PALETTE, [references["harbour"]], end_s=4.0)

    assert not finding.passed
    assert "stray from the IP palette" in finding.reason


def test_an_offline_take_over_a_character_and_a_setting_is_on_model(tmp_path):
    # Studio's renderer stands in for a video model: one scene from its key reference, not a
    # strip of references side by side that matches none of them.
    paths = []
    for name, draw in (("mira", demo.mira), ("harbour", demo.harbour_at_dusk)):
        paths.append(str(tmp_path / f"{name}.png"))
        draw(random.Random(7)).save(paths[-1])
    video = media.render_clip(
        prompt="Mira on the quay at dusk",
        camera="slow pan left",
        duration_s=4,
        aspect_ratio="16:9",
        seed=3,
        palette=PALETTE,
        reference_images=paths,
        size_short_side=180,
    )

    report = qc_clip(
        video, expected_duration_s=4, aspect_ratio="16:9", reference_images=paths, palette=PALETTE
    )

    assert report.failed == ()
    assert {f.check for f in report.findings} >= {"identity", "palette"}
