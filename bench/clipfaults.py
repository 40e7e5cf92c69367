"""The benchmark's own clip faults: Pillow and PyAV edits of a generated clip.

Each edit imitates a way real video models, encoders and transfers spoil a take: a model that
fades in from black or drops out mid-shot, holds a frame for the rest of the shot, pumps its
exposure, delivers a matted or differently shaped frame, cuts to another scene, stops early or
runs long, or paints a watermark or garbled lettering into the picture; a download cut short.
None of this code knows what the product's checks measure.
"""

from __future__ import annotations

import io
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

SEVERITIES = ("mild", "moderate", "severe")


def decode(video: bytes) -> tuple[list[Image.Image], int]:
    """Return a clip's frames as RGB images and its frame rate."""
    with av.open(io.BytesIO(video), mode="r") as container:
        stream = container.streams.video[0]
        fps = round(float(stream.average_rate or stream.guessed_rate or 12))
        frames = [frame.to_image().convert("RGB") for frame in container.decode(stream)]
    return frames, fps


def encode(frames: Sequence[Image.Image], fps: int, *, faststart: bool = False) -> bytes:
    """Encode frames as H.264 MP4 the way the local renderer does (moov first if faststart)."""
    if faststart:
        # The muxer rewrites the file to move its index, so it needs a real file.
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "clip.mp4"
            _encode_to(str(path), frames, fps, {"movflags": "faststart"})
            return path.read_bytes()
    out = io.BytesIO()
    _encode_to(out, frames, fps, {})
    return out.getvalue()


def _encode_to(target, frames: Sequence[Image.Image], fps: int, options: dict) -> None:
    width, height = frames[0].size
    with av.open(target, mode="w", format="mp4", options=options) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = width - width % 2, height - height % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "26"}
        for image in frames:
            if image.size != (stream.width, stream.height):
                image = image.crop((0, 0, stream.width, stream.height))
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def _black(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A near-black frame with sensor-like noise, as a dropout or a fade floor looks."""
    level = rng.randint(0, 10)
    noise = Image.effect_noise(size, 3).point(lambda v: max(0, min(255, level + (v - 128) // 16)))
    return Image.merge("RGB", [noise] * 3)


def black_segment(frames, fps, *, where: str, severity: str, rng: random.Random):
    """Black out the start (a slow fade-in), the middle (a dropout) or the end of the clip."""
    seconds = {"mild": 0.6, "moderate": 1.0, "severe": 1.6}[severity]
    count = min(len(frames) - 1, max(1, round(seconds * fps)))
    if where == "start":
        span = range(0, count)
    elif where == "end":
        span = range(len(frames) - count, len(frames))
    else:
        first = rng.randint(len(frames) // 4, max(len(frames) // 4, len(frames) - count - 1))
        span = range(first, first + count)
    out = list(frames)
    for index in span:
        out[index] = _black(frames[index].size, rng)
    # A fade at the edge of the dropout, as an encoder or a model's transition leaves one.
    for edge in (span.start - 1, span.stop):
        if 0 <= edge < len(out):
            out[edge] = ImageEnhance.Brightness(frames[edge]).enhance(0.35)
    return out


def partial_freeze(frames, fps, *, severity: str, rng: random.Random):
    """Hold one frame for the rest of the shot, as a stalled model or decoder does."""
    seconds = {"mild": 1.0, "moderate": 1.8, "severe": 2.6}[severity]
    count = min(len(frames) - 2, round(seconds * fps))
    start = len(frames) - count
    held = frames[start]
    return [*frames[:start], *([held] * count)]


def flicker(frames, fps, *, severity: str, rng: random.Random):
    """Pump exposure frame to frame over part of the clip (temporal instability)."""
    depth = {"mild": 0.12, "moderate": 0.25, "severe": 0.45}[severity]
    seconds = {"mild": 1.5, "moderate": 2.5, "severe": len(frames) / fps}[severity]
    count = min(len(frames), round(seconds * fps))
    first = rng.randint(0, len(frames) - count)
    out = list(frames)
    for index in range(first, first + count):
        factor = 1 + depth * rng.uniform(0.6, 1.0) * (1 if index % 2 else -1)
        out[index] = ImageEnhance.Brightness(frames[index]).enhance(factor)
    return out


def matte(frames, fps, *, severity: str, rng: random.Random):
    """Deliver the picture inside black bars: letterboxed, pillarboxed or windowboxed."""
    width, height = frames[0].size
    if severity == "mild":  # a 2:1 picture letterboxed in 16:9
        box = (width, round(width / 2.0))
    elif severity == "moderate":  # a 4:3 picture pillarboxed in 16:9
        box = (round(height * 4 / 3), height)
    else:  # a 1:1 picture, windowboxed
        box = (round(height * 0.85), round(height * 0.85))
    left, top = (width - box[0]) // 2, (height - box[1]) // 2
    out = []
    for frame in frames:
        canvas = Image.new("RGB", (width, height), (rng.randint(0, 3),) * 3)
        canvas.paste(ImageOps.fit(frame, box), (left, top))
        out.append(canvas)
    return out


def cut_to(frames, other, fps, *, severity: str, rng: random.Random):
    """Cut mid-shot to frames of another scene (a model that strings two shots together)."""
    if severity == "mild":  # the last second is another scene
        start, stop = len(frames) - fps, len(frames)
    elif severity == "moderate":  # an insert of another scene in the middle
        start = rng.randint(len(frames) // 4, len(frames) // 2)
        stop = start + round(1.5 * fps)
    else:  # the shot turns into another scene after 1.3 s
        start, stop = round(1.3 * fps), len(frames)
    out = list(frames)
    for index in range(start, min(stop, len(frames))):
        out[index] = other[index % len(other)].resize(frames[0].size)
    return out


def trim(frames, fps, *, seconds: float):
    """Stop the clip early, as a model that ends the shot before its length."""
    return frames[: max(2, round(seconds * fps))]


def reframe(frames, *, aspect: str):
    """Deliver another frame shape (centre crop), as a model that ignores the aspect request."""
    height = frames[0].size[1]
    ratio = {"4:3": 4 / 3, "1:1": 1.0, "9:16": 9 / 16}[aspect]
    size = (round(height * ratio) // 2 * 2, height)
    return [ImageOps.fit(frame, size) for frame in frames]


def near_copy(frames, *, severity: str, rng: random.Random):
    """A re-encode of an earlier take, slightly shifted (a cache or seed collision)."""
    if severity == "moderate":
        return frames
    width, height = frames[0].size
    shift = rng.randint(4, 10)
    return [
        ImageEnhance.Brightness(
            frame.crop((shift, shift, width, height)).resize((width, height))
        ).enhance(rng.uniform(0.96, 1.04))
        for frame in frames
    ]


_GLYPHS = "ABCDEFGHIJKLMNOPRSTUVWXYZ0123456789"


def _garbled(rng: random.Random, words: int) -> str:
    """Lettering as image models paint it: word-shaped, letter-like, meaning nothing."""
    return " ".join(
        "".join(rng.choice(_GLYPHS) for _ in range(rng.randint(3, 8))) for _ in range(words)
    )


def burnt_text(frames, fps, *, severity: str, rng: random.Random):
    """Paint text into the picture: a corner watermark, a subtitle, or a title card."""
    width, height = frames[0].size
    if severity == "mild":
        text, size, alpha = _garbled(rng, 1), max(12, height // 22), 110
        position = (width - size * 6, height - size * 2)
        span = range(len(frames))
    elif severity == "moderate":
        text, size, alpha = _garbled(rng, 4), max(14, height // 16), 230
        position = (width // 8, round(height * 0.82))
        first = rng.randint(0, len(frames) // 2)
        span = range(first, min(len(frames), first + 2 * fps))
    else:
        text, size, alpha = _garbled(rng, 2), max(24, height // 6), 255
        position = (width // 10, height // 3)
        span = range(len(frames))
    font = ImageFont.load_default(size=size)
    colour = rng.choice([(255, 255, 255), (250, 220, 60), (20, 20, 20)])
    out = list(frames)
    for index in span:
        layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        ImageDraw.Draw(layer).text(position, text, fill=(*colour, alpha), font=font)
        out[index] = Image.alpha_composite(frames[index].convert("RGBA"), layer).convert("RGB")
    return out


def truncate(video: bytes, *, severity: str) -> bytes:
    """Cut the file short, as an interrupted download or upload leaves it.

    The clip is first rewritten with its index at the front (as streaming uploads are), so a
    mildly cut file still plays: it just stops early.
    """
    frames, fps = decode(video)
    whole = encode(frames, fps, faststart=True)
    keep = {"mild": 0.8, "moderate": 0.5, "severe": 0.15}[severity]
    return whole[: round(len(whole) * keep)]
