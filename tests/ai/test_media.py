"""Rendering and probing real H.264 clips."""

from __future__ import annotations

import io
import itertools
import time

import pytest
from PIL import Image, ImageChops, ImageStat

from studio.ai import media

PALETTE = ("#1b2a41", "#c8553d", "#f2d0a4")


@pytest.fixture
def reference(tmp_path):
    path = tmp_path / "ref.png"
    Image.effect_mandelbrot((400, 300), (-2, -1.2, 1, 1.2), 64).save(path)
    return str(path)


def render(reference, **overrides) -> bytes:
    options = {
        "prompt": "Mika runs through the woods",
        "camera": "handheld push-in",
        "duration_s": 4,
        "aspect_ratio": "16:9",
        "seed": 7,
        "palette": PALETTE,
        "reference_images": (reference,),
    } | overrides
    return media.render_clip(**options)


@pytest.mark.parametrize("camera", ["handheld push-in", "slow pan left", "tilt up", "static"])
def test_rendered_clip_has_the_right_duration_aspect_and_moving_frames(reference, camera):
    probe = media.probe_video(render(reference, camera=camera))

    assert abs(probe.duration_s - 4) <= 1 / 12
    assert (probe.width, probe.height) == (640, 360)
    assert probe.luma_std > 20
    assert probe.frozen_ratio < 0.3


def test_vertical_clip_is_taller_than_wide(reference):
    probe = media.probe_video(render(reference, aspect_ratio="9:16", duration_s=6))

    assert (probe.width, probe.height) == (360, 640)
    assert probe.frame_count == 72


def test_rendering_is_deterministic_for_a_seed(reference):
    assert render(reference) == render(reference)
    assert render(reference, seed=1, reference_images=()) != render(
        reference, seed=2, reference_images=()
    )


def test_rendering_four_seconds_is_fast(reference):
    start = time.perf_counter()
    render(reference)
    elapsed = time.perf_counter() - start

    print(f"render_clip 4 s, 12 fps, 640x360: {elapsed:.3f} s")
    assert elapsed < 1.5


def test_black_flat_and_frozen_clips_are_measurably_bad(reference):
    black = media.probe_video(
        media.render_flat_clip(colour="#000000", duration_s=4, aspect_ratio="16:9")
    )
    frozen = media.probe_video(render(reference, still=True))

    assert black.mean_luma < 5 and black.luma_std < 1
    assert frozen.frozen_ratio == 1.0


def test_off_palette_clip_is_far_from_the_references(reference):
    on = media.probe_video(render(reference)).dominant_palette
    off = media.probe_video(
        render(reference, palette=media.complementary_palette(PALETTE))
    ).dominant_palette

    assert media.palette_distance(on, PALETTE) < 0.25
    assert media.palette_distance(off, PALETTE) > 0.3
    assert media.palette_distance(off, PALETTE) - media.palette_distance(on, PALETTE) > 0.1


def test_poster_is_the_middle_frame_as_png(reference):
    poster = media.poster_png(render(reference))

    image = media.open_image(poster)
    assert poster.startswith(b"\x89PNG") and image.size == (640, 360)


@pytest.mark.parametrize("garbage", [b"", b"not a video", b"\x00\x00\x00\x18ftypmp42" + b"\0" * 64])
def test_garbage_bytes_raise_media_error(garbage):
    with pytest.raises(media.MediaError):
        media.probe_video(garbage)
    with pytest.raises(media.MediaError):
        media.poster_png(garbage)


def test_truncated_clip_raises_media_error(reference):
    clip = render(reference)

    with pytest.raises(media.MediaError):
        media.probe_video(clip[: len(clip) // 2])


def test_palette_distance_is_zero_for_equal_and_large_for_opposite_palettes():
    assert media.palette_distance(PALETTE, PALETTE) == 0
    assert media.palette_distance(("#000000",), ("#ffffff",)) == 1
    assert 0 < media.palette_distance(("#cc0000",), ("#dd1111",)) < 0.1


def test_colour_names_and_dominant_colours():
    image = Image.new("RGB", (100, 100), "#dc143c")
    image.paste((0, 0, 128), (0, 0, 100, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")

    colours = media.dominant_colours(buffer.getvalue(), k=2)

    assert [media.colour_name(c) for c in colours] == ["crimson", "navy"]


def band_difference(a: bytes, b: bytes) -> tuple[float, float]:
    """Return the mean luma difference of two clips' posters in their top and bottom bands."""
    first, second = (media.open_image(media.poster_png(v)).convert("L") for v in (a, b))
    width, height = first.size
    top, bottom = (0, 0, width, 24), (0, height - 24, width, height)
    return tuple(
        ImageStat.Stat(ImageChops.difference(first.crop(box), second.crop(box))).mean[0]
        for box in (top, bottom)
    )


def test_a_prompt_is_not_burnt_into_the_picture_unless_it_asks_for_text(reference):
    plain = render(reference, prompt="Mika runs through the woods")
    other_words = render(reference, prompt="Mika sprints between the pines")
    titled = render(reference, prompt='A title card that reads "Lanternfall" over the woods')

    # Without a request for text, the words of the prompt leave no trace in the picture.
    assert plain == other_words
    top, bottom = band_difference(titled, plain)
    assert top < 2 and bottom > 10


def test_a_negative_prompt_forbidding_text_wins_over_a_prompt_asking_for_it(reference):
    prompt = 'A title card that reads "Lanternfall" over the woods'

    forbidden = render(reference, prompt=prompt, negative_prompt="Avoid: text, logos")

    assert forbidden == render(reference, prompt="Mika runs through the woods")


@pytest.mark.parametrize(
    ("prompt", "negative", "expected"),
    [
        ("Wide shot: Mira on the quay.", "", None),
        ('A sign that reads "Harbour office" above the door', "", "Harbour office"),
        ("Add a caption: the tide turns", "blurry", "Add a caption: the tide turns"),
        ('A sign that reads "Harbour office"', "watermark, logos", None),
    ],
)
def test_on_screen_text_is_only_what_the_prompt_asks_for(prompt, negative, expected):
    assert media.on_screen_text(prompt, negative) == expected


def test_even_sample_keeps_a_bounded_evenly_spread_sample():
    sample = media.EvenSample(16)

    for index in range(10_000):
        sample.offer(index)

    kept = sample.items
    assert sample.offered == 10_000
    assert 8 < len(kept) <= 16
    assert kept[0] == 0
    assert len({b - a for a, b in itertools.pairwise(kept)}) == 1
    assert kept[-1] >= 10_000 - (kept[1] - kept[0])


def test_probe_keeps_only_a_capped_sample_of_frames_but_measures_them_all(reference, monkeypatch):
    # Given a 48-frame clip, its full probe, and a cap of 8 kept frames
    clip = render(reference)
    full = media.probe_video(clip)
    mosaic_widths = []
    mosaic = media._mosaic
    monkeypatch.setattr(media, "MAX_PROBE_FRAMES", 8)
    monkeypatch.setattr(
        media, "_mosaic", lambda images: mosaic_widths.append(len(images)) or mosaic(images)
    )

    # When it is probed again
    capped = media.probe_video(clip)

    # Then every frame counts towards the measures, but no more than 8 are kept for the palette
    assert mosaic_widths and max(mosaic_widths) <= 8
    assert capped.frame_count == full.frame_count == 48
    assert capped.mean_luma == pytest.approx(full.mean_luma)
    assert capped.frozen_ratio == pytest.approx(full.frozen_ratio)
    assert media.palette_distance(capped.dominant_palette, full.dominant_palette) < 0.1
