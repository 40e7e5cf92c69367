"""Hand-made clips for the QC tests: a drawn scene, a slow pan, and one defect each.

Made here with Pillow and PyAV rather than with Studio's renderer, so the checks are tested on
clips they had no hand in.
"""

from __future__ import annotations

import array
import io
import math
import random
from collections.abc import Callable, Sequence

import av
from PIL import Image, ImageDraw, ImageEnhance

FPS = 12
SIZE = (320, 180)
SAMPLE_RATE = 48_000

Frame = Callable[[int], Image.Image]


def scene(seed: int = 1, size: tuple[int, int] = (480, 300)) -> Image.Image:
    """Draw a night harbour: a gradient sky, houses with lit windows, a figure in a coat."""
    rng = random.Random(seed)
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(size[1]):
        t = y / size[1]
        draw.line(
            [(0, y), (size[0], y)], fill=(int(15 + 30 * t), int(60 + 50 * t), int(76 + 60 * t))
        )
    x = 0
    while x < size[0]:
        width, height = rng.randint(40, 70), rng.randint(60, 120)
        draw.rectangle([x, size[1] - height, x + width, size[1]], fill=(31, 111, 139))
        for wy in range(size[1] - height + 10, size[1] - 10, 22):
            draw.rectangle([x + 8, wy, x + 16, wy + 10], fill=(245, 185, 66))
        x += width + 6
    draw.polygon([(200, 280), (260, 280), (230, 150)], fill=(245, 185, 66))
    draw.ellipse([215, 125, 245, 155], fill=(232, 220, 194))
    draw.rectangle([212, 170, 248, 180], fill=(181, 82, 59))
    return image


def other_scene(size: tuple[int, int] = (480, 300)) -> Image.Image:
    """Draw a different place altogether: a cream dawn, a rust office, a navy figure."""
    image = Image.new("RGB", size, (232, 220, 194))
    draw = ImageDraw.Draw(image)
    draw.rectangle([40, 60, 220, 250], fill=(181, 82, 59))
    draw.rectangle([0, 250, size[0], size[1]], fill=(15, 61, 76))
    draw.polygon([(300, 250), (380, 250), (340, 90)], fill=(29, 43, 79))
    return image


def pan(picture: Image.Image, frames: int = 4 * FPS, size: tuple[int, int] = SIZE) -> Frame:
    """Return frame i of a slow left-to-right pan across the picture."""
    aspect = size[0] / size[1]
    crop_w = min(picture.width * 0.8, picture.height * 0.9 * aspect)
    crop_h = crop_w / aspect

    def frame(index: int) -> Image.Image:
        x = (picture.width - crop_w) * index / max(frames - 1, 1)
        y = (picture.height - crop_h) / 2
        return picture.resize(size, Image.Resampling.BILINEAR, box=(x, y, x + crop_w, y + crop_h))

    return frame


def black(size: tuple[int, int] = SIZE) -> Image.Image:
    return Image.new("RGB", size)


def brighter(image: Image.Image, factor: float) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(factor)


def boxed(image: Image.Image, content: tuple[int, int]) -> Image.Image:
    """Shrink the picture to `content` and centre it on black bars."""
    canvas = black(image.size)
    canvas.paste(
        image.resize(content),
        ((image.width - content[0]) // 2, (image.height - content[1]) // 2),
    )
    return canvas


def tone(seconds: float, *, amplitude: float = 0.1, silent: Sequence[tuple[float, float]] = ()):
    """Return mono samples of a 220 Hz tone with a little hiss, zero inside the silent ranges."""
    rng = random.Random(3)
    samples = []
    for n in range(round(seconds * SAMPLE_RATE)):
        t = n / SAMPLE_RATE
        if any(a <= t < b for a, b in silent):
            samples.append(0.0)
        else:
            value = amplitude * (math.sin(2 * math.pi * 220 * t) + 0.2 * rng.uniform(-1, 1))
            samples.append(max(-1.0, min(1.0, value)))
    return samples


def encode(
    frame: Frame,
    count: int = 4 * FPS,
    *,
    size: tuple[int, int] = SIZE,
    samples: Sequence[float] | None = None,
) -> bytes:
    """Encode frames 0..count-1 as H.264 (plus AAC when given samples) in an MP4."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "20"}
        audio = container.add_stream("aac", rate=SAMPLE_RATE) if samples is not None else None
        if audio is not None:
            audio.layout = "mono"
        for index in range(count):
            for packet in video.encode(av.VideoFrame.from_image(frame(index))):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        if audio is not None and samples is not None:
            for start in range(0, len(samples), 1024):
                chunk = array.array("f", samples[start : start + 1024])
                piece = av.AudioFrame(format="flt", layout="mono", samples=len(chunk))
                piece.planes[0].update(chunk.tobytes())
                piece.sample_rate = SAMPLE_RATE
                piece.pts = start
                for packet in audio.encode(piece):
                    container.mux(packet)
            for packet in audio.encode(None):
                container.mux(packet)
    return out.getvalue()
