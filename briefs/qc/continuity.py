"""Continuity across shots: does each take keep the look, palette and light of the others?

A take's look is measured once from keyframes sampled over its clip: its weighted colours (the
palette), its mean colour and luminance, and the colour of its light (the mean colour of its
brightest fifth of pixels, where the light falls). Two takes are compared part by part; each
part is a distance from 0 (the same) upwards, judged against its own limit, calibrated in
bench/continuity.py:

- look: how far the shared character's takes stray from that character's reference colours
  (the worse of the two takes), one-directional as in the IP palette check: a shot shows some
  of the character's colours, not all.
- palette: how far one take's colours stray from the other's, in the direction that strays
  less. A close shot shows part of a wide one's colours, so one direction always fits when the
  grade is the same; a turned grade strays both ways.
- light: the difference in lightness (CIE L*) of the takes' light. Whole-frame means moved as
  much with framing as with a night grade in the calibration; the highlights did not.

What it cannot do (measured, docs/continuity.md): it does not find the character in the frame,
and a white-balance drift of 10-25% stays within the variation of good shots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageStat

from briefs.qc.identity import reference_colours
from studio.ai import media
from studio.ai.types import ClipFrame

# Colours of a take's palette, as the IP palette check counts them.
_PALETTE_COLOURS = 8
# Keyframes are kept this wide: a sheet thumbnail, sharp on a high-density screen.
_KEYFRAME_WIDTH = 320
# Keyframes are measured this wide: enough pixels for shares, few enough to be quick.
_MEASURE_WIDTH = 96
# Lightness counts half in colour strays, as in the IP palette check: the light part judges
# brightness; look and palette judge hue and saturation.
_LIGHTNESS_WEIGHT = 0.5
# The share of pixels, brightest first, whose mean colour is the take's light.
_LIGHT_SHARE = 0.2


@dataclass(frozen=True)
class Look:
    """What a take looks like, measured from its keyframes."""

    palette: tuple[tuple[str, float], ...]
    mean_colour: str
    luminance: float  # CIE L* of the mean colour, 0..100
    light_colour: str  # mean colour of the brightest fifth of pixels

    @property
    def light_lightness(self) -> float:
        """Return the CIE L* of the take's light."""
        return media.rgb_to_lab(media.hex_to_rgb(self.light_colour))[0]

    @property
    def colour_temperature_k(self) -> float:
        """Return the correlated colour temperature of the take's light, in K."""
        return colour_temperature_k(media.hex_to_rgb(self.light_colour))

    def as_fields(self) -> dict:
        """Return the look as TakeLook's fields."""
        return {
            "palette": [[colour, round(share, 4)] for colour, share in self.palette],
            "mean_colour": self.mean_colour,
            "luminance": round(self.luminance, 2),
            "light_colour": self.light_colour,
            "colour_temperature_k": round(self.colour_temperature_k),
        }

    @classmethod
    def from_record(cls, record: object) -> Look:
        """Rebuild a look from a stored one (a TakeLook row)."""
        return cls(
            palette=tuple((colour, share) for colour, share in record.palette),
            mean_colour=record.mean_colour,
            luminance=record.luminance,
            light_colour=record.light_colour,
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
    """Measure a take's palette, mean colour and light from its keyframes."""
    if not frames:
        raise media.MediaError("no keyframes to measure")
    sheet = media.contact_sheet(frames, width=_MEASURE_WIDTH)
    mean_rgb = _rounded(ImageStat.Stat(sheet).mean)
    return Look(
        palette=tuple(media.weighted_colours(sheet, _PALETTE_COLOURS)),
        mean_colour=media.rgb_to_hex(mean_rgb),
        luminance=media.rgb_to_lab(mean_rgb)[0],
        light_colour=media.rgb_to_hex(_light_rgb(sheet)),
    )


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


def reference_stray(look: Look, reference_images: Sequence[str]) -> float | None:
    """Return how far the take's colours stray from a character's references (the nearest one)."""
    strays = [
        media.palette_stray(
            look.palette,
            [colour for colour, _ in reference_colours(path)],
            lightness_weight=_LIGHTNESS_WEIGHT,
        )
        for path in reference_images
    ]
    return round(min(strays), 4) if strays else None


def compare(
    a: Look, b: Look, *, a_reference: float | None = None, b_reference: float | None = None
) -> PairScore:
    """Score two takes' drift: look (given each take's stray from a shared character's
    references), palette and light."""
    look = None
    if a_reference is not None and b_reference is not None:
        look = round(max(a_reference, b_reference), 4)
    return PairScore(look=look, palette=palette_drift(a, b), light=light_drift(a, b))


def palette_drift(a: Look, b: Look) -> float:
    """Return how far one take's colours stray from the other's, in the direction that fits."""
    a_hexes, b_hexes = [c for c, _ in a.palette], [c for c, _ in b.palette]
    there = media.palette_stray(a.palette, b_hexes, lightness_weight=_LIGHTNESS_WEIGHT)
    back = media.palette_stray(b.palette, a_hexes, lightness_weight=_LIGHTNESS_WEIGHT)
    return round(min(there, back), 4)


def light_drift(a: Look, b: Look) -> float:
    """Return the difference in the lightness of the takes' light (CIE L*), divided by 100."""
    return round(abs(a.light_lightness - b.light_lightness) / 100, 4)


def _light_rgb(sheet: Image.Image) -> tuple[int, int, int]:
    """Return the mean colour of the brightest fifth of the pixels."""
    luma = sheet.convert("L")
    counts = luma.histogram()
    wanted, seen, cut = sum(counts) * _LIGHT_SHARE, 0, 255
    for cut in range(255, -1, -1):
        seen += counts[cut]
        if seen >= wanted:
            break
    mask = luma.point(lambda value: 255 if value >= cut else 0)
    return _rounded(ImageStat.Stat(sheet, mask).mean)


def _rounded(values: Sequence[float]) -> tuple[int, int, int]:
    red, green, blue = (round(v) for v in values[:3])
    return red, green, blue
