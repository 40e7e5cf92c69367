"""Identity and palette: do the take's frames look like the shot's references?

Identity compares each sampled frame with windows of every character reference (the whole
picture, and crops a push-in or pan may have framed) by normalised cross-correlation of their
small greyscale versions: the structure term of SSIM, blind to the brightness and contrast a
generator's grade changes. Shapes and their layout tell characters apart; colours do not, when
an IP paints everyone in one palette (measured in bench/calibrate_qc.py: colour histograms
confused two characters of the demo IP's night palette, structure did not).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator, Sequence
from functools import cache
from statistics import median

from django.conf import settings
from PIL import Image, ImageOps

from briefs.qc.report import QcFinding
from studio.ai import media

# Frames and windows are compared at this size (long side, short side).
_COMPARE_SIDES = (24, 14)
# Crops of each reference a shot may have framed: share of the reference's size, and where
# across (pans travel further) and down. Measured: three sizes at three places each matched
# good takes at 0.66 and up, this grid at 0.9 and up, for the same cost of the other character.
_WINDOW_SCALES = (1.0, 0.85, 0.7, 0.55)
_WINDOW_ACROSS = (0.0, 0.25, 0.5, 0.75, 1.0)
_WINDOW_DOWN = (0.0, 0.5, 1.0)
_PALETTE_COLOURS = 8
# Lightness counts half: a darker or brighter grade keeps the palette, a turn of hue does not
# (bench/calibrate_qc.py: with full weight, darker good takes strayed as far as hue-turned ones).
_PALETTE_LIGHTNESS_WEIGHT = 0.5
# Colours are counted on frames this wide: enough pixels for shares, few enough to be quick.
_PALETTE_SHEET_WIDTH = 80


def identity_finding(
    frames: Sequence[Image.Image], reference_images: Sequence[str], *, end_s: float
) -> QcFinding:
    """Score how closely sampled frames match the character references (median of frames)."""
    limit_score = settings.PIPELINE_QC_MIN_IDENTITY
    limit = f">= {limit_score}"
    # Judged as shown: the rounded value is the one compared with the limit.
    score = round(identity_score(frames, reference_images), 3)
    if score >= limit_score:
        return QcFinding("identity", True, round(score, 3), limit)
    reason = (
        f"frames do not look like the shot's references (similarity {score:.2f}): "
        "another character or setting, or the references were ignored"
    )
    return QcFinding("identity", False, round(score, 3), limit, 0.0, round(end_s, 3), reason)


def identity_score(frames: Sequence[Image.Image], reference_images: Sequence[str]) -> float:
    """Return -1..1: per frame the best match over reference windows, then the median."""
    if not frames:
        return 0.0
    long, short = _COMPARE_SIDES
    size = (long, short) if frames[0].width >= frames[0].height else (short, long)
    windows = [
        descriptor for path in reference_images for descriptor in _reference_descriptors(path, size)
    ]
    if not windows:
        return 0.0
    described = [_descriptor(frame, size) for frame in frames]
    per_frame = [max(_similarity(frame, window) for window in windows) for frame in described]
    return median(per_frame)


def palette_finding(
    frames: Sequence[Image.Image],
    palette: Sequence[str],
    reference_images: Sequence[str],
    *,
    end_s: float,
) -> QcFinding:
    """Check the frames' colours stay near the IP palette and the references' own colours."""
    limit_value = settings.PIPELINE_QC_MAX_PALETTE_STRAY
    limit = f"<= {limit_value}"
    targets = list(palette)
    for path in reference_images:
        targets.extend(colour for colour, _ in reference_colours(path))
    if not frames or not targets:
        return QcFinding("palette", True, None, limit)
    sheet = media.contact_sheet(frames, width=_PALETTE_SHEET_WIDTH)
    colours = media.weighted_colours(sheet, _PALETTE_COLOURS)
    stray = round(
        media.palette_stray(colours, targets, lightness_weight=_PALETTE_LIGHTNESS_WEIGHT), 3
    )
    if stray <= limit_value:
        return QcFinding("palette", True, stray, limit)
    if not settings.PIPELINE_QC_PALETTE_ROUTES:
        # Calibration found no threshold that separates good takes from off-palette ones, so
        # by default the distance is shown to people but routes nothing (docs/qc.md).
        return QcFinding("palette", True, stray, f"{limit} (shown, does not route)")
    reason = f"colours stray from the IP palette and references (distance {stray:.2f})"
    return QcFinding("palette", False, stray, limit, 0.0, round(end_s, 3), reason)


Descriptor = tuple[float, ...]


def _descriptor(image: Image.Image, size: tuple[int, int]) -> Descriptor:
    """Return the picture's luma at the compare size, at mean 0 and unit spread."""
    values = list(image.convert("L").resize(size, Image.Resampling.BOX).tobytes())
    mean = sum(values) / len(values)
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    # A flat picture has no structure to match: it correlates with nothing.
    return tuple((v - mean) / spread for v in values) if spread else (0.0,) * len(values)


def _similarity(a: Descriptor, b: Descriptor) -> float:
    """Normalised cross-correlation, -1..1: 1 for the same shapes in the same places."""
    return sum(map(operator.mul, a, b)) / len(a)


@cache
def _reference_descriptors(path: str, size: tuple[int, int]) -> tuple[Descriptor, ...]:
    """Describe each window of a reference a shot might frame (cached: references rarely change)."""
    return tuple(_descriptor(window, size) for window in _windows(_open(path), size))


@cache
def reference_colours(path: str) -> tuple[tuple[str, float], ...]:
    """Return a reference image's weighted colours (cached: references rarely change)."""
    image = _open(path)
    image.thumbnail((160, 160))
    return tuple(media.weighted_colours(image, _PALETTE_COLOURS))


def _open(path: str) -> Image.Image:
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except OSError as exc:
        raise media.MediaError(f"cannot read reference image {path}: {exc}") from exc


def _windows(image: Image.Image, size: tuple[int, int]) -> Iterator[Image.Image]:
    """Yield crops with the frame's aspect at several sizes and positions."""
    aspect = size[0] / size[1]
    width, height = image.size
    full_w, full_h = (
        (width, width / aspect) if width / height < aspect else (height * aspect, height)
    )
    yield ImageOps.fit(image, (round(full_w), round(full_h)))
    for scale in _WINDOW_SCALES[1:]:
        crop_w, crop_h = full_w * scale, full_h * scale
        for fx in _WINDOW_ACROSS:
            for fy in _WINDOW_DOWN:
                x, y = fx * (width - crop_w), fy * (height - crop_h)
                yield image.crop((round(x), round(y), round(x + crop_w), round(y + crop_h)))
