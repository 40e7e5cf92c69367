"""Real media: render H.264 clips from references, probe clips, compare palettes."""

from __future__ import annotations

import array
import colorsys
import io
import math
import random
import re
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import av
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps, ImageStat

from studio.ai.types import AspectRatio, ClipFrame

# Room around the visible frame that camera moves travel through.
_MARGIN = 1.3
# A consecutive pair whose mean absolute luma difference (0..255, on a thumbnail) is below this
# is "frozen"; x264 keeps a held frame well under it, the slowest drift we render stays above.
_FROZEN_DIFF = 0.35
_THUMB_WIDTH = 128
# Thumbnails probe_video keeps for the palette: the 8 s clips we render fit whole (the sample is
# then exactly what it always was), a long upload is thinned instead of filling memory.
MAX_PROBE_FRAMES = 256

_DEFAULT_PALETTE = ("#1d3557", "#457b9d", "#a8dadc", "#f1faee", "#e63946")

# A low bed and a pad need nothing above 12 kHz: half the usual 48 kHz halves the time spent
# synthesising and AAC-encoding a take's ambience (see bench/sound.py).
_SAMPLE_RATE = 24_000
# A mood's sound: the pad's root in Hz and how often it swells per second (0: steady).
_MOOD_SOUND: dict[str, tuple[float, float]] = {
    "calm": (110.0, 0.0),
    "joyful": (196.0, 0.0),
    "sad": (87.3, 0.0),
    "mysterious": (73.4, 0.4),
    "tense": (98.0, 2.0),
    "action": (130.8, 3.0),
}

# A prompt asks for words in the picture only in so many words; a negative prompt that names
# text or logos forbids them, whatever the prompt says.
_ASKS_FOR_TEXT = re.compile(
    r"\b(captions?|subtitles?|title card|on-?screen text|text overlay|lower third|"
    r"(?:sign|banner|text|title) (?:that )?(?:reads|says))\b",
    re.IGNORECASE,
)
_FORBIDS_TEXT = re.compile(
    r"\b(text|captions?|subtitles?|lettering|words|typography|logos?|watermarks?)\b",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"[\"“]([^\"”]+)[\"”]")

# A compact subset of CSS colour names: enough to describe a frame in words.
CSS_COLOURS: dict[str, str] = {
    "black": "#000000",
    "dimgray": "#696969",
    "gray": "#808080",
    "silver": "#c0c0c0",
    "white": "#ffffff",
    "ivory": "#fffff0",
    "beige": "#f5f5dc",
    "tan": "#d2b48c",
    "brown": "#a52a2a",
    "saddlebrown": "#8b4513",
    "sienna": "#a0522d",
    "chocolate": "#d2691e",
    "maroon": "#800000",
    "crimson": "#dc143c",
    "red": "#ff0000",
    "salmon": "#fa8072",
    "coral": "#ff7f50",
    "orangered": "#ff4500",
    "orange": "#ffa500",
    "gold": "#ffd700",
    "khaki": "#f0e68c",
    "yellow": "#ffff00",
    "olive": "#808000",
    "yellowgreen": "#9acd32",
    "green": "#008000",
    "forestgreen": "#228b22",
    "darkgreen": "#006400",
    "lime": "#00ff00",
    "seagreen": "#2e8b57",
    "teal": "#008080",
    "turquoise": "#40e0d0",
    "cyan": "#00ffff",
    "lightblue": "#add8e6",
    "skyblue": "#87ceeb",
    "steelblue": "#4682b4",
    "blue": "#0000ff",
    "navy": "#000080",
    "midnightblue": "#191970",
    "slateblue": "#6a5acd",
    "indigo": "#4b0082",
    "purple": "#800080",
    "violet": "#ee82ee",
    "magenta": "#ff00ff",
    "orchid": "#da70d6",
    "pink": "#ffc0cb",
    "hotpink": "#ff69b4",
    "lavender": "#e6e6fa",
    "slategray": "#708090",
    "darkslategray": "#2f4f4f",
    "darkslateblue": "#483d8b",
    "darkblue": "#00008b",
}


class MediaError(ValueError):
    """Bytes that are not a decodable video or image."""


@dataclass(frozen=True)
class VideoProbe:
    """Measurements of a decoded clip."""

    duration_s: float
    width: int
    height: int
    frame_count: int
    fps: float
    mean_luma: float
    luma_std: float
    frozen_ratio: float
    dominant_palette: tuple[str, ...]


def frame_size(aspect_ratio: AspectRatio, size_short_side: int = 360) -> tuple[int, int]:
    """Return (width, height) with even sides, as H.264 4:2:0 requires."""
    short = size_short_side - size_short_side % 2
    long = round(short * 16 / 9 / 2) * 2
    return (long, short) if aspect_ratio == "16:9" else (short, long)


def on_screen_text(prompt: str, negative_prompt: str = "") -> str | None:
    """Return the words a prompt asks to show (its quoted text, else itself), or None.

    None unless the prompt asks for on-screen text, and always None when the negative prompt
    forbids text or logos.
    """
    if _FORBIDS_TEXT.search(negative_prompt) or not _ASKS_FOR_TEXT.search(prompt):
        return None
    quoted = _QUOTED.search(prompt)
    return quoted.group(1) if quoted else prompt


def render_clip(
    *,
    prompt: str,
    camera: str,
    duration_s: int,
    aspect_ratio: AspectRatio,
    seed: int,
    palette: Sequence[str],
    reference_images: Sequence[str],
    fps: int = 12,
    size_short_side: int = 360,
    still: bool = False,
    negative_prompt: str = "",
    mood: str | None = None,
) -> bytes:
    """Render an MP4 (H.264) moving over the key reference, tinted to the palette.

    Words appear in the picture only when the prompt asks for on-screen text and the negative
    prompt does not forbid it (see on_screen_text). `still` holds the first frame for the whole
    clip (a frozen take, for fault injection). A `mood` adds an AAC ambience track (see
    ambience).
    """
    size = frame_size(aspect_ratio, size_short_side)
    rng = random.Random(seed)
    colours = [hex_to_rgb(c) for c in (palette or _DEFAULT_PALETTE)]
    canvas = _canvas(size, reference_images, colours, rng)
    text = on_screen_text(prompt, negative_prompt)
    strip = _caption_strip(text, size, colours) if text else None
    boxes = list(_camera_path(camera, size, canvas.size, duration_s * fps, rng))
    # A soft light drifts across every shot: a move over flat, featureless references (sky,
    # a wall) must still read as motion, or the frozen-clip check would reject a good take.
    glow = _glow(size)
    steps = list(enumerate(boxes))
    if still:
        steps = steps[:1] * len(steps)

    def frames() -> Iterator[Image.Image]:
        for index, box in steps:
            frame = canvas.resize(size, Image.Resampling.BILINEAR, box=box)
            t = index / max(len(boxes) - 1, 1)
            light = Image.new("RGB", size)
            light.paste(glow, (round((t * 1.5 - 1) * size[0]), round(-0.25 * size[1])))
            frame = ImageChops.screen(frame, light)
            if strip is not None:
                frame.paste(strip, (0, size[1] - strip.height))
            yield frame

    samples = ambience(duration_s=duration_s, mood=mood, seed=seed) if mood else None
    return _encode(frames(), size, fps, samples)


def ambience(*, duration_s: float, mood: str, seed: int) -> list[float]:
    """Synthesise a mono bed for a mood: a low rumble and a soft pad, swelling when tense.

    About -25 dBFS RMS with peaks near -13 dBFS (-28 LUFS); an unknown mood sounds calm.
    """
    root, swells = _MOOD_SOUND.get(mood, _MOOD_SOUND["calm"])
    noise = random.Random(seed).random
    sin = math.sin
    step_root = 2 * math.pi * root / _SAMPLE_RATE
    step_fifth, step_swell = 1.5 * step_root, 2 * math.pi * swells / _SAMPLE_RATE
    samples = [0.0] * round(duration_s * _SAMPLE_RATE)
    rumble = 0.0
    for n in range(len(samples)):
        # A leaky integral of white noise: a rumble with the same level at any sample rate.
        rumble = 0.99 * rumble + 0.02 * noise() - 0.01
        pad = sin(step_root * n) + 0.5 * sin(step_fifth * n)
        samples[n] = rumble + 0.08 * (0.6 + 0.4 * sin(step_swell * n)) * pad
    return samples


def render_flat_clip(
    *,
    colour: str,
    duration_s: int,
    aspect_ratio: AspectRatio,
    fps: int = 12,
    size_short_side: int = 360,
) -> bytes:
    """Render an MP4 of one flat colour (a black or blank take)."""
    size = frame_size(aspect_ratio, size_short_side)
    frame = Image.new("RGB", size, hex_to_rgb(colour))
    return _encode((frame for _ in range(duration_s * fps)), size, fps)


def poster_png(video_bytes: bytes) -> bytes:
    """Return the clip's middle frame as PNG."""
    total = sum(1 for _ in _decoded(video_bytes))
    if total == 0:
        raise MediaError("video has no frames")
    for index, frame in enumerate(_decoded(video_bytes)):
        if index == total // 2:
            out = io.BytesIO()
            frame.to_image().save(out, format="PNG")
            return out.getvalue()
    raise MediaError("video changed while reading")


def sample_frames(video_bytes: bytes, *, count: int = 6, max_width: int = 640) -> list[ClipFrame]:
    """Return `count` frames spread evenly over the clip, as JPEG, each with its time.

    One decoding pass: an EvenSample of twice as many frames keeps memory bounded, and `count`
    frames are taken evenly from it.
    """
    kept = EvenSample(2 * count)
    for frame in _decoded(video_bytes):
        kept.offer(frame)
    if not kept.items:
        raise MediaError("video has no frames")
    step = len(kept.items) / count
    wanted = sorted({min(len(kept.items) - 1, int(step * (n + 0.5))) for n in range(count)})
    sampled = []
    for index in wanted:
        frame = kept.items[index]
        image = frame.to_image()
        image.thumbnail((max_width, max_width))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85)
        sampled.append(ClipFrame(time_s=round(float(frame.time or 0.0), 3), image=out.getvalue()))
    return sampled


class EvenSample:
    """Keep at most `limit` items, evenly spread over however many are offered."""

    def __init__(self, limit: int) -> None:
        self.limit = max(limit, 1)
        self.items: list = []
        self.offered = 0
        self._stride = 1

    def offer(self, item: object) -> None:
        """Keep the item when it falls on the stride; halve the sample when it overflows."""
        if self.offered % self._stride == 0:
            self.items.append(item)
            if len(self.items) > self.limit:
                # Every other kept item sits on the doubled stride, so the spread stays even.
                self.items = self.items[::2]
                self._stride *= 2
        self.offered += 1


def probe_video(video_bytes: bytes, *, palette_size: int = 5) -> VideoProbe:
    """Decode a clip and measure duration, size, brightness, motion and colours."""
    luma_sum = luma_std_sum = 0.0
    frozen = 0
    previous: Image.Image | None = None
    # Frame statistics are running sums; only the palette's sample of thumbnails is kept.
    sample = EvenSample(MAX_PROBE_FRAMES)
    try:
        with av.open(io.BytesIO(video_bytes), mode="r") as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            width, height = stream.codec_context.width, stream.codec_context.height
            thumb_size = (_THUMB_WIDTH, max(2, round(_THUMB_WIDTH * height / max(width, 1))))
            for frame in container.decode(stream):
                thumb = frame.reformat(*thumb_size, format="rgb24").to_image()
                grey = thumb.convert("L")
                stat = ImageStat.Stat(grey)
                luma_sum += stat.mean[0]
                luma_std_sum += stat.stddev[0]
                if previous is not None:
                    difference = ImageStat.Stat(ImageChops.difference(previous, grey)).mean[0]
                    frozen += difference < _FROZEN_DIFF
                previous = grey
                sample.offer(thumb)
    except (av.FFmpegError, IndexError) as exc:
        raise MediaError(f"not a decodable video: {exc}") from exc
    frame_count = sample.offered
    if not frame_count:
        raise MediaError("video has no frames")
    thumbs = sample.items
    step = max(1, len(thumbs) // 8)
    return VideoProbe(
        duration_s=frame_count / fps if fps else 0.0,
        width=width,
        height=height,
        frame_count=frame_count,
        fps=fps,
        mean_luma=luma_sum / frame_count,
        luma_std=luma_std_sum / frame_count,
        frozen_ratio=frozen / (frame_count - 1) if frame_count > 1 else 1.0,
        dominant_palette=_dominant(_mosaic(thumbs[::step]), palette_size),
    )


def dominant_colours(image_bytes: bytes, k: int = 5) -> tuple[str, ...]:
    """Return up to k dominant colours of an image as hex, most common first."""
    image = open_image(image_bytes)
    image.thumbnail((160, 160))
    return _dominant(image, k)


def luma_stats(image_bytes: bytes) -> tuple[float, float]:
    """Return (mean, standard deviation) of an image's luma, 0..255."""
    return luma_stats_of(open_image(image_bytes))


def luma_stats_of(image: Image.Image) -> tuple[float, float]:
    """Return (mean, standard deviation) of a picture's luma, 0..255."""
    grey = image.convert("L")
    grey.thumbnail((256, 256))
    stat = ImageStat.Stat(grey)
    return stat.mean[0], stat.stddev[0]


def contact_sheet(images: Sequence[Image.Image], width: int = 160) -> Image.Image:
    """Lay pictures side by side, each scaled to `width`, to measure them as one."""
    thumbs = [
        image.convert("RGB").resize((width, max(2, width * image.height // image.width)))
        for image in images
    ]
    return _mosaic(thumbs)


def open_image(image_bytes: bytes) -> Image.Image:
    """Decode image bytes to RGB or raise MediaError."""
    try:
        with Image.open(io.BytesIO(image_bytes)) as image:
            return image.convert("RGB")
    except (OSError, ValueError) as exc:
        raise MediaError(f"not a decodable image: {exc}") from exc


def palette_distance(palette_a: Sequence[str], palette_b: Sequence[str]) -> float:
    """Return a 0..1 distance: symmetric mean nearest-colour CIE76 Delta E, divided by 100."""
    if not palette_a or not palette_b:
        raise ValueError("palette_distance needs two non-empty palettes")
    lab_a = [_lab(hex_to_rgb(c)) for c in palette_a]
    lab_b = [_lab(hex_to_rgb(c)) for c in palette_b]

    def nearest(src: list[tuple[float, ...]], dst: list[tuple[float, ...]]) -> float:
        return sum(min(math.dist(s, d) for d in dst) for s in src) / len(src)

    return min(1.0, (nearest(lab_a, lab_b) + nearest(lab_b, lab_a)) / 200)


def weighted_colours(image: Image.Image, k: int = 8) -> list[tuple[str, float]]:
    """Return up to k dominant colours of an image with the share of pixels each covers."""
    quantised = image.convert("RGB").quantize(colors=k, method=Image.Quantize.MEDIANCUT)
    flat = quantised.getpalette() or []
    counts = quantised.getcolors() or []
    total = sum(count for count, _ in counts) or 1
    return [
        (rgb_to_hex(flat[i * 3 : i * 3 + 3]), count / total)
        for count, i in sorted(counts, reverse=True)
    ]


def palette_stray(
    colours: Sequence[tuple[str, float]], palette: Sequence[str], *, lightness_weight: float = 1.0
) -> float:
    """Return how far a picture's colours stray from a palette: 0..1, weighted by pixel share.

    One-directional on purpose: a good frame uses some of the palette, not all of it, so only
    the picture's colours are looked up (mean nearest CIE76 Delta E, divided by 100).
    `lightness_weight` below 1 lets a darker or brighter grade keep its palette.
    """
    if not colours or not palette:
        raise ValueError("palette_stray needs colours and a palette")

    def lab(hex_colour: str) -> tuple[float, float, float]:
        lightness, a, b = _lab(hex_to_rgb(hex_colour))
        return lightness * lightness_weight, a, b

    targets = [lab(c) for c in palette]
    weight = sum(share for _, share in colours) or 1.0
    stray = sum(
        share * min(math.dist(lab(colour), target) for target in targets)
        for colour, share in colours
    )
    return min(1.0, stray / weight / 100)


def colour_name(hex_colour: str) -> str:
    """Return the nearest CSS colour name."""
    lab = _lab(hex_to_rgb(hex_colour))
    return min(CSS_COLOURS, key=lambda name: math.dist(lab, _lab(hex_to_rgb(CSS_COLOURS[name]))))


def complementary_palette(palette: Sequence[str]) -> tuple[str, ...]:
    """Return each colour's complementary hue at the same lightness and saturation.

    An off-brand look that keeps the light: inverting RGB instead would swap darks and lights,
    and a palette of dark cool and light warm colours would come back almost as itself.
    """
    shifted = []
    for colour in palette:
        hue, lightness, saturation = colorsys.rgb_to_hls(*(v / 255 for v in hex_to_rgb(colour)))
        rgb = colorsys.hls_to_rgb((hue + 0.5) % 1.0, lightness, saturation)
        shifted.append(rgb_to_hex(tuple(round(v * 255) for v in rgb)))
    return tuple(shifted)


def hex_to_rgb(hex_colour: str) -> tuple[int, int, int]:
    """Parse '#rrggbb' (or 'rrggbb')."""
    value = hex_colour.strip().lstrip("#")
    if len(value) != 6:
        raise ValueError(f"not a hex colour: {hex_colour!r}")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def rgb_to_hex(rgb: Iterable[int]) -> str:
    """Format an RGB triple as '#rrggbb'."""
    return "#" + "".join(f"{int(v):02x}" for v in rgb)


def rgb_to_lab(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    """Return an sRGB colour's CIE L*a*b* (D65)."""
    return _lab(rgb)


def _lab(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def _dominant(image: Image.Image, k: int) -> tuple[str, ...]:
    quantised = image.quantize(colors=k, method=Image.Quantize.MEDIANCUT)
    flat = quantised.getpalette() or []
    counts = sorted(quantised.getcolors() or [], reverse=True)
    return tuple(rgb_to_hex(flat[i * 3 : i * 3 + 3]) for _, i in counts)


def _mosaic(images: Sequence[Image.Image]) -> Image.Image:
    width, height = images[0].size
    sheet = Image.new("RGB", (width * len(images), height))
    for index, image in enumerate(images):
        sheet.paste(image, (index * width, 0))
    return sheet


def _luminance(rgb: tuple[int, int, int]) -> float:
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]


def _glow(size: tuple[int, int]) -> Image.Image:
    """Return a frame-sized soft radial light, brightest at its centre."""
    small = Image.radial_gradient("L").resize((64, 64))
    light = ImageOps.invert(small).point(lambda value: value * 56 // 255)
    return Image.merge("RGB", [light.resize(size, Image.Resampling.BILINEAR)] * 3)


def _canvas(
    size: tuple[int, int],
    reference_images: Sequence[str],
    colours: list[tuple[int, int, int]],
    rng: random.Random,
) -> Image.Image:
    """Fill the frame with the key (first) reference, or a seeded pattern, tinted to the palette.

    A video model makes one scene of its references; a strip of them side by side would match
    none, and QC's identity check would rightly reject every offline take with two references.
    """
    width, height = round(size[0] * _MARGIN), round(size[1] * _MARGIN)
    if reference_images:
        path = reference_images[0]
        try:
            with Image.open(path) as image:
                grey = image.convert("L")
        except OSError as exc:
            raise MediaError(f"cannot read reference image {path}: {exc}") from exc
        canvas = ImageOps.autocontrast(ImageOps.fit(grey, (width, height)), cutoff=1)
    else:
        canvas = _pattern((width, height), rng)
    by_light = sorted(colours, key=_luminance)
    return ImageOps.colorize(
        canvas, black=by_light[0], white=by_light[-1], mid=by_light[len(by_light) // 2]
    )


def _pattern(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Draw seeded soft shapes so a camera move over an empty brief is still visible."""
    width, height = size
    image = Image.linear_gradient("L").resize(size).rotate(rng.uniform(0, 360), expand=False)
    draw = ImageDraw.Draw(image)
    for _ in range(24):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        radius = rng.uniform(0.03, 0.15) * width
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=rng.randrange(256))
    return image.filter(ImageFilter.GaussianBlur(2))


def _caption_strip(
    prompt: str, size: tuple[int, int], colours: list[tuple[int, int, int]]
) -> Image.Image:
    width, height = size
    font_size = max(10, height // 30)
    lines = textwrap.wrap(" ".join(prompt.split()), width=max(20, int(width / (font_size * 0.55))))
    strip = Image.new("RGB", (width, font_size * 2 + 12), min(colours, key=_luminance))
    draw = ImageDraw.Draw(strip)
    font = ImageFont.load_default(size=font_size)
    text = "\n".join(lines[:2]) or " "
    draw.multiline_text((8, 5), text, fill=max(colours, key=_luminance), font=font, spacing=2)
    return strip


def _camera_path(
    camera: str,
    size: tuple[int, int],
    canvas_size: tuple[int, int],
    frame_count: int,
    rng: random.Random,
) -> Iterator[tuple[float, float, float, float]]:
    """Yield one crop box per frame that follows the words in the camera direction."""
    words = camera.lower()
    speed = 0.5 if "slow" in words else 1.5 if ("fast" in words or "whip" in words) else 1.0
    zoom_in = any(w in words for w in ("push", "zoom in", "dolly in", "close"))
    zoom_out = any(w in words for w in ("pull", "zoom out", "dolly out", "reveal"))
    pan_left = "left" in words
    pan_right = "right" in words or "tracking" in words or "orbit" in words
    tilt_up = "tilt up" in words or "crane up" in words or "rise" in words
    tilt_down = "tilt down" in words or "crane down" in words
    moving = zoom_in or zoom_out or pan_left or pan_right or tilt_up or tilt_down
    handheld = "handheld" in words or "shaky" in words
    canvas_w, canvas_h = canvas_size
    phase = rng.uniform(0, 2 * math.pi)
    jitter = random.Random(rng.random())
    for index in range(frame_count):
        t = index / max(frame_count - 1, 1)
        # Part linear so no stretch of the move is slow enough to read as a held frame.
        eased = 0.4 * t + 0.6 * t * t * (3 - 2 * t)
        scale = 1.0
        if zoom_in:
            scale = _MARGIN - (_MARGIN - 1) * min(1.0, eased * speed)
        elif zoom_out:
            scale = 1 + (_MARGIN - 1) * min(1.0, eased * speed)
        elif not moving:
            # A static shot still breathes: a slow drift keeps it from reading as frozen.
            scale = 1.12 - 0.1 * t
        w, h = size[0] * scale, size[1] * scale
        fx = fy = 0.5
        if pan_left or pan_right:
            travel = min(0.5, 0.5 * speed) * eased
            fx = 0.5 + travel if pan_right else 0.5 - travel
        if tilt_up or tilt_down:
            travel = min(0.5, 0.5 * speed) * eased
            fy = 0.5 - travel if tilt_up else 0.5 + travel
        if not moving:
            fx += 0.25 * math.sin(phase + 1.5 * t)
            fy += 0.15 * math.cos(phase + 1.5 * t)
        x = fx * (canvas_w - w)
        y = fy * (canvas_h - h)
        if handheld:
            x += jitter.uniform(-1, 1) * size[0] * 0.01
            y += jitter.uniform(-1, 1) * size[1] * 0.01
        x = min(max(x, 0.0), canvas_w - w)
        y = min(max(y, 0.0), canvas_h - h)
        yield (x, y, x + w, y + h)


def _encode(
    frames: Iterable[Image.Image],
    size: tuple[int, int],
    fps: int,
    samples: Sequence[float] | None = None,
) -> bytes:
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        # ultrafast keeps a 4 s clip well under half a second; quality is not the point offline.
        stream.options = {"preset": "ultrafast", "crf": "26"}
        # Every stream must exist before the first packet is written.
        audio = container.add_stream("aac", rate=_SAMPLE_RATE) if samples is not None else None
        if audio is not None:
            audio.layout = "mono"
            # The fast coder halves encoding time; a stand-in's ambience needs no better.
            audio.options = {"aac_coder": "fast"}
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if audio is not None and samples is not None:
            _encode_audio(container, audio, samples)
    return out.getvalue()


# Codecs the review player (any current browser) can play; others must be exported again.
PLAYABLE_CODECS = ("h264", "hevc", "vp9", "av1")


def inspect_upload(video_bytes: bytes) -> str:
    """Return the codec of a clip people can review; raise MediaError saying why it is not one.

    Every frame is decoded, so a truncated or damaged file is caught here, not in the player.
    """
    try:
        with av.open(io.BytesIO(video_bytes), mode="r") as container:
            if not container.streams.video:
                raise MediaError("the file has no video track")
            codec = container.streams.video[0].codec_context.name
            if codec not in PLAYABLE_CODECS:
                raise MediaError(
                    f"{codec} video cannot be played in the review player; export it as H.264, "
                    "HEVC, VP9 or AV1"
                )
            frames = sum(1 for _ in container.decode(video=0))
    except av.FFmpegError as exc:
        raise MediaError(f"the file is not a video, or it is truncated or damaged ({exc})") from exc
    if not frames:
        raise MediaError("the video has no frames")
    return codec


def _encode_audio(
    container: av.container.OutputContainer, stream: av.AudioStream, samples: Sequence[float]
) -> None:
    for start in range(0, len(samples), 1024):
        chunk = array.array("f", samples[start : start + 1024])
        frame = av.AudioFrame(format="flt", layout="mono", samples=len(chunk))
        frame.planes[0].update(chunk.tobytes())
        frame.sample_rate = _SAMPLE_RATE
        frame.pts = start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def _decoded(video_bytes: bytes) -> Iterator[av.VideoFrame]:
    try:
        with av.open(io.BytesIO(video_bytes), mode="r") as container:
            yield from container.decode(video=0)
    except (av.FFmpegError, IndexError) as exc:
        raise MediaError(f"not a decodable video: {exc}") from exc
