"""Identity and palette: do the take's frames look like the shot's references?

Identity compares each sampled frame with windows of every character reference (whole picture,
and crops where a push-in or pan may have framed it) by regional joint colour histograms: a
character is mostly a few colours in a few places, which survives the re-drawing, grading and
compression a generator adds, while another character's colours and layout do not match.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache
from statistics import median

from django.conf import settings
from PIL import Image, ImageChops, ImageOps

from briefs.qc.report import QcFinding
from studio.ai import media

# Frames and windows are compared at this size (long side, short side), in a grid of regions.
_COMPARE_SIDES = (48, 27)
_GRID = 2
# Levels per RGB channel in the joint histogram (4**3 = 64 bins).
_LEVELS = 4
# Crops of each reference a shot may have framed: share of the reference's size, positions.
_WINDOW_SCALES = (1.0, 0.75, 0.55)
_WINDOW_POSITIONS = (0.0, 0.5, 1.0)
_PALETTE_COLOURS = 8


def identity_finding(
    frames: Sequence[Image.Image], reference_images: Sequence[str], *, end_s: float
) -> QcFinding:
    """Score how closely sampled frames match the character references (median of frames)."""
    limit_score = settings.PIPELINE_QC_MIN_IDENTITY
    limit = f">= {limit_score}"
    score = identity_score(frames, reference_images)
    if score >= limit_score:
        return QcFinding("identity", True, round(score, 3), limit)
    reason = (
        f"frames do not look like the shot's references (similarity {score:.2f}): "
        "another character or setting, or the references were ignored"
    )
    return QcFinding("identity", False, round(score, 3), limit, 0.0, round(end_s, 3), reason)


def identity_score(frames: Sequence[Image.Image], reference_images: Sequence[str]) -> float:
    """Return 0..1: per frame the best match over reference windows, then the median."""
    if not frames:
        return 0.0
    long, short = _COMPARE_SIDES
    size = (long, short) if frames[0].width >= frames[0].height else (short, long)
    windows = [
        descriptor for path in reference_images for descriptor in _reference_descriptors(path, size)
    ]
    if not windows:
        return 0.0
    per_frame = [
        max(_similarity(_descriptor(frame, size), window) for window in windows) for frame in frames
    ]
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
        targets.extend(colour for colour, _ in _reference_colours(path))
    if not frames or not targets:
        return QcFinding("palette", True, None, limit)
    sheet = Image.new("RGB", (frames[0].width * len(frames), frames[0].height))
    for index, frame in enumerate(frames):
        sheet.paste(frame.convert("RGB"), (index * frames[0].width, 0))
    stray = media.palette_stray(media.weighted_colours(sheet, _PALETTE_COLOURS), targets)
    if stray <= limit_value:
        return QcFinding("palette", True, round(stray, 3), limit)
    reason = f"colours stray from the IP palette and references (distance {stray:.2f})"
    return QcFinding("palette", False, round(stray, 3), limit, 0.0, round(end_s, 3), reason)


Descriptor = tuple[tuple[float, ...], ...]


def _descriptor(image: Image.Image, size: tuple[int, int]) -> Descriptor:
    """Return one normalised 64-bin joint colour histogram per grid region."""
    small = image.convert("RGB").resize(size, Image.Resampling.BOX)
    shift = 8 - (_LEVELS - 1).bit_length()
    r, g, b = small.split()
    index = ImageChops.add(
        ImageChops.add(
            r.point(lambda v: (v >> shift) * _LEVELS * _LEVELS),
            g.point(lambda v: (v >> shift) * _LEVELS),
        ),
        b.point(lambda v: v >> shift),
    )
    width, height = size
    bins = _LEVELS**3
    regions = []
    for row in range(_GRID):
        for col in range(_GRID):
            box = (
                col * width // _GRID,
                row * height // _GRID,
                (col + 1) * width // _GRID,
                (row + 1) * height // _GRID,
            )
            counts = index.crop(box).histogram()[:bins]
            total = sum(counts) or 1
            regions.append(tuple(count / total for count in counts))
    return tuple(regions)


def _similarity(a: Descriptor, b: Descriptor) -> float:
    """Mean histogram intersection over regions: 1 for the same colours in the same places."""
    return sum(
        sum(min(x, y) for x, y in zip(ra, rb, strict=True)) for ra, rb in zip(a, b, strict=True)
    ) / len(a)


@cache
def _reference_descriptors(path: str, size: tuple[int, int]) -> tuple[Descriptor, ...]:
    """Describe each window of a reference a shot might frame (cached: references rarely change)."""
    return tuple(_descriptor(window, size) for window in _windows(_open(path), size))


@cache
def _reference_colours(path: str) -> tuple[tuple[str, float], ...]:
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
        for fx in _WINDOW_POSITIONS:
            for fy in _WINDOW_POSITIONS:
                x, y = fx * (width - crop_w), fy * (height - crop_h)
                yield image.crop((round(x), round(y), round(x + crop_w), round(y + crop_h)))
