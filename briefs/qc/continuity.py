"""Continuity across shots: does each take keep the look, palette and light of the others?

A take's look is measured once from keyframes sampled over its clip: its weighted colours (the
palette), the mean colour (light: luminance and colour temperature) and a histogram of chroma
(the YCbCr Cb and Cr planes, blind to brightness, so an exposure wobble does not read as a
different character). Two takes are then compared part by part; each part is a distance from
0 (the same) upwards, judged against its own limit, calibrated in bench/continuity.py.

What it cannot do: it does not find the character in the frame. The chroma histogram is of the
whole keyframe, so the "look" part is the picture's colours where the shared character appears,
and a character drawn in the same colours as another passes (identity in briefs/qc/identity.py
compares structure against the references instead).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from PIL import Image, ImageChops, ImageStat

from studio.ai import media
from studio.ai.types import ClipFrame

# Colours of a take's palette, as the IP palette check counts them.
_PALETTE_COLOURS = 8
# Keyframes are kept this wide: a sheet thumbnail, sharp on a high-density screen.
_KEYFRAME_WIDTH = 320
# Keyframes are measured this wide: enough pixels for shares, few enough to be quick.
_MEASURE_WIDTH = 96
# Cb and Cr are each cut into this many bins (16 x 16 = 256, one 8-bit histogram).
_CHROMA_BINS = 16
# Lightness counts half in the palette distance, as in the IP palette check: the light part
# judges brightness; the palette part judges hue and saturation.
_PALETTE_LIGHTNESS_WEIGHT = 0.5


@dataclass(frozen=True)
class Look:
    """What a take looks like, measured from its keyframes."""

    palette: tuple[tuple[str, float], ...]
    mean_colour: str
    luminance: float  # CIE L*, 0..100
    colour_temperature_k: float
    chroma_histogram: tuple[float, ...]

    def as_fields(self) -> dict:
        """Return the look as TakeLook's fields."""
        return {
            "palette": [[colour, round(share, 4)] for colour, share in self.palette],
            "mean_colour": self.mean_colour,
            "luminance": round(self.luminance, 2),
            "colour_temperature_k": round(self.colour_temperature_k),
            "chroma_histogram": [round(v, 5) for v in self.chroma_histogram],
        }

    @classmethod
    def from_record(cls, record: object) -> Look:
        """Rebuild a look from a stored one (a TakeLook row)."""
        return cls(
            palette=tuple((colour, share) for colour, share in record.palette),
            mean_colour=record.mean_colour,
            luminance=record.luminance,
            colour_temperature_k=record.colour_temperature_k,
            chroma_histogram=tuple(record.chroma_histogram),
        )


@dataclass(frozen=True)
class PairScore:
    """How far two takes drift apart, part by part (None: the part does not apply)."""

    look: float | None
    palette: float
    light: float

    def parts(self) -> dict[str, float | None]:
        """Return each part by name."""
        return {"look": self.look, "palette": self.palette, "light": self.light}

    @property
    def drift(self) -> float:
        """Return the worst part as a share of its limit: above 1 is beyond the limit."""
        limits = continuity_limits()
        return max(
            value / limits[name] for name, value in self.parts().items() if value is not None
        )

    @property
    def drifted(self) -> bool:
        """Tell whether any part is beyond its calibrated limit."""
        return self.drift > 1.0

    def drifted_parts(self) -> list[str]:
        """Return the parts beyond their limits, in order."""
        limits = continuity_limits()
        return [
            name
            for name, value in self.parts().items()
            if value is not None and value > limits[name]
        ]


def continuity_limits() -> dict[str, float]:
    """Return each part's limit from settings (calibrated in bench/continuity.py)."""
    return {
        "look": settings.CONTINUITY_MAX_LOOK_DRIFT,
        "palette": settings.CONTINUITY_MAX_PALETTE_DRIFT,
        "light": settings.CONTINUITY_MAX_LIGHT_DRIFT,
    }


def sample_keyframes(video_bytes: bytes, *, count: int) -> list[ClipFrame]:
    """Sample the clip's keyframes as the sheet shows them (small JPEGs, with their times)."""
    return media.sample_frames(video_bytes, count=count, max_width=_KEYFRAME_WIDTH)


def look_of_keyframes(keyframes: Sequence[ClipFrame]) -> Look:
    """Measure a take's look from its sampled keyframes."""
    return measure_look([media.open_image(frame.image) for frame in keyframes])


def measure_look(frames: Sequence[Image.Image]) -> Look:
    """Measure a take's palette, mean colour and chroma from its keyframes."""
    if not frames:
        raise media.MediaError("no keyframes to measure")
    sheet = media.contact_sheet(frames, width=_MEASURE_WIDTH)
    palette = tuple(media.weighted_colours(sheet, _PALETTE_COLOURS))
    mean_rgb = tuple(round(v) for v in ImageStat.Stat(sheet).mean[:3])
    return Look(
        palette=palette,
        mean_colour=media.rgb_to_hex(mean_rgb),
        luminance=media.rgb_to_lab(mean_rgb)[0],
        colour_temperature_k=colour_temperature_k(mean_rgb),
        chroma_histogram=chroma_histogram(sheet),
    )


def chroma_histogram(image: Image.Image) -> tuple[float, ...]:
    """Return the share of pixels in each (Cb, Cr) bin: colour without brightness."""
    _, cb, cr = image.convert("YCbCr").split()
    width = 256 // _CHROMA_BINS
    rows = cb.point(lambda v: (v // width) * _CHROMA_BINS)
    cols = cr.point(lambda v: v // width)
    counts = ImageChops.add(rows, cols).histogram()[: _CHROMA_BINS * _CHROMA_BINS]
    total = sum(counts) or 1
    return tuple(count / total for count in counts)


def histogram_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """Return 1 minus the histograms' intersection: 0 for the same colours, 1 for none shared."""
    return 1.0 - sum(map(min, a, b))


def colour_temperature_k(rgb: tuple[int, int, int]) -> float:
    """Return the correlated colour temperature of an sRGB colour (McCamy's formula), in K."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    x = 0.4124 * r + 0.3576 * g + 0.1805 * b
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = 0.0193 * r + 0.1192 * g + 0.9505 * b
    total = x + y + z
    if total <= 0:
        return 0.0
    cx, cy = x / total, y / total
    if cy <= 0.1858:  # past McCamy's pole: deep blue and violet, colder than any light
        return 25000.0
    n = (cx - 0.3320) / (0.1858 - cy)
    # Outside 1,000-25,000 K the formula means nothing; clamp so a saturated frame stays finite.
    return max(1000.0, min(25000.0, 449 * n**3 + 3525 * n**2 + 6823.3 * n + 5520.33))


def reference_similarity(look: Look, reference_images: Sequence[str]) -> float | None:
    """Return 0..1: how much of the take's chroma the character's references share."""
    histograms = [_reference_histogram(path) for path in reference_images]
    if not histograms:
        return None
    return round(max(1.0 - histogram_distance(look.chroma_histogram, h) for h in histograms), 3)


def compare(
    a: Look,
    b: Look,
    *,
    shared_character: bool,
    a_reference: float | None = None,
    b_reference: float | None = None,
) -> PairScore:
    """Score two takes' drift: look (when they share a character), palette and light."""
    look = None
    if shared_character:
        look = histogram_distance(a.chroma_histogram, b.chroma_histogram)
        if a_reference is not None and b_reference is not None:
            # One take far nearer the character's references than the other drifted too.
            look = max(look, abs(a_reference - b_reference))
        look = round(look, 4)
    return PairScore(look=look, palette=palette_drift(a, b), light=light_drift(a, b))


def palette_drift(a: Look, b: Look) -> float:
    """Return how far each take's colours stray from the other's palette, on average."""
    a_colours, b_colours = list(a.palette), list(b.palette)
    a_hexes, b_hexes = [c for c, _ in a_colours], [c for c, _ in b_colours]
    there = media.palette_stray(a_colours, b_hexes, lightness_weight=_PALETTE_LIGHTNESS_WEIGHT)
    back = media.palette_stray(b_colours, a_hexes, lightness_weight=_PALETTE_LIGHTNESS_WEIGHT)
    return round((there + back) / 2, 4)


def light_drift(a: Look, b: Look) -> float:
    """Return the CIE76 Delta E between the takes' mean colours, divided by 100.

    One distance for the light: an exposure or day-to-night change moves L*, a white-balance
    drift (warmer, cooler) moves a* and b*.
    """
    lab_a = media.rgb_to_lab(media.hex_to_rgb(a.mean_colour))
    lab_b = media.rgb_to_lab(media.hex_to_rgb(b.mean_colour))
    return round(min(1.0, math.dist(lab_a, lab_b) / 100), 4)


@cache
def _reference_histogram(path: str) -> tuple[float, ...]:
    """Measure a reference image's chroma (cached: references rarely change)."""
    try:
        with Image.open(path) as image:
            picture = image.convert("RGB")
    except OSError as exc:
        raise media.MediaError(f"cannot read reference image {path}: {exc}") from exc
    picture.thumbnail((_MEASURE_WIDTH * 2, _MEASURE_WIDTH * 2))
    return chroma_histogram(picture)
