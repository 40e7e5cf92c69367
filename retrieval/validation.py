"""Check uploaded bytes by content, normalise images, and derive thumbnail and palette.

Nothing here touches the database or storage: a file that fails any check is rejected before a
row or a file exists.
"""

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePath

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from studio.ai import media

# Pillow formats we accept, by the format Pillow reads from the bytes (never the name).
_IMAGE_FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
_IMAGE_KINDS = {"still", "style_frame", "logo"}
# What an accepted image is re-encoded as: its own format, except GIF (one frame is kept, and a
# PNG holds it without GIF's 256-colour palette).
_STORED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "GIF": "PNG", "WEBP": "WEBP"}
_SUFFIXES = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}


class ContentRejected(ValueError):
    """The bytes are not something the catalog accepts; the message says why."""


@dataclass
class CheckedFile:
    """A validated file ready to store, with what was measured from it."""

    data: bytes
    file_name: str
    mime_type: str
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    thumbnail_webp: bytes | None = None
    palette: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_upload(*, kind: str, file_name: str, data: bytes) -> CheckedFile:
    """Validate bytes for an asset kind by content and return what to store, or raise."""
    if not data:
        raise ContentRejected("The file is empty.")
    check_size(len(data))
    sniffed = sniff(data)
    if sniffed == "svg":
        raise ContentRejected(
            "SVG files are not accepted (they can carry scripts); upload a PNG or JPEG."
        )
    if kind in _IMAGE_KINDS:
        if sniffed != "image":
            raise ContentRejected(_mismatch(file_name, sniffed, "an image (PNG, JPEG, GIF, WebP)"))
        return _check_image(file_name, data)
    if kind == "clip":
        if sniffed != "video":
            raise ContentRejected(_mismatch(file_name, sniffed, "a video (MP4, MOV, WebM)"))
        return _check_clip(file_name, data)
    if kind == "style_guide":
        if sniffed != "text":
            raise ContentRejected(_mismatch(file_name, sniffed, "UTF-8 text (.txt or .md)"))
        suffix = ".txt" if PurePath(file_name).suffix.lower() == ".txt" else ".md"
        return CheckedFile(
            data=data, file_name=_safe_name(file_name, suffix), mime_type="text/markdown"
        )
    raise ContentRejected(f"Unknown asset kind {kind!r}.")


def check_size(size: int) -> None:
    """Refuse a file over RETRIEVAL_MAX_UPLOAD_BYTES; call it before reading the file."""
    limit = settings.RETRIEVAL_MAX_UPLOAD_BYTES
    if size > limit:
        raise ContentRejected(
            f"The file is {filesizeformat(size)}; the limit is {filesizeformat(limit)}."
        )


def sniff(data: bytes) -> str:
    """Name what the leading bytes say the file is: image, video, svg, text or unknown."""
    head = data[:64]
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[4:8] == b"ftyp" or head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video"
    try:
        text = data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        # A cut multi-byte character at the 4 KiB boundary is still text.
        try:
            text = data[:4093].decode("utf-8")
        except UnicodeDecodeError:
            return "unknown"
    lowered = text.lstrip("\ufeff \t\r\n").lower()
    if "<svg" in lowered[:2048] or (lowered.startswith("<?xml") and "svg" in lowered):
        return "svg"
    if "\x00" in text:
        return "unknown"
    return "text"


def _mismatch(file_name: str, sniffed: str, wanted: str) -> str:
    found = {"unknown": "not a recognised format"}.get(sniffed, f"{sniffed}")
    return f"{file_name!r} is {found} by its content; this kind of asset needs {wanted}."


def _check_image(file_name: str, data: bytes) -> CheckedFile:
    max_pixels = settings.RETRIEVAL_MAX_IMAGE_PIXELS
    with _pillow_limits(file_name, max_pixels):
        with Image.open(io.BytesIO(data)) as header:  # parses the header, decodes nothing
            image_format = header.format
            width, height = header.size
            frames = getattr(header, "n_frames", 1)
        if image_format not in _IMAGE_FORMATS:
            raise ContentRejected(f"{image_format} images are not supported; use PNG or JPEG.")
        if width * height > max_pixels:
            raise ContentRejected(_bomb_message(file_name, max_pixels, (width, height)))
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()  # checksums and structure; leaves the image unusable
        image = Image.open(io.BytesIO(data))
        image.seek(0)
        image.load()
    notes: list[str] = []
    if frames > 1:
        notes.append(f"animated image ({frames} frames): kept the first frame")
    if image.mode == "CMYK":
        notes.append("converted from CMYK to RGB")
    oriented = ImageOps.exif_transpose(image)
    if oriented.size != image.size or oriented.tobytes() != image.tobytes():
        notes.append("rotated upright from its EXIF orientation")
    image = oriented
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert(
            "RGBA" if "A" in image.mode or "transparency" in image.info else "RGB"
        )
    stored_format = _STORED_FORMATS[image_format]
    rgb = image.convert("RGB")
    return CheckedFile(
        data=_reencode(image, stored_format),
        file_name=_safe_name(file_name, _SUFFIXES[stored_format]),
        mime_type=_IMAGE_FORMATS[stored_format],
        width=image.width,
        height=image.height,
        thumbnail_webp=thumbnail_webp(rgb),
        palette=list(media.dominant_colours(_encode(_small(rgb)), 5)),
        notes=notes,
    )


def _reencode(image: Image.Image, image_format: str) -> bytes:
    """Write the pixels alone: no metadata, colour profile or trailing bytes of the upload."""
    # A fresh image carries no info for Pillow to copy (it copies a JPEG's comment and a PNG's
    # ICC profile from it), and nothing after the image's end marker was ever decoded, so a
    # script in either does not reach storage (OWASP file-upload guidance).
    image = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    if image_format == "JPEG":
        image.save(out, format="JPEG", quality=90, optimize=True)
    elif image_format == "WEBP":
        image.save(out, format="WEBP", lossless=True)
    else:
        image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _bomb_message(file_name: str, max_pixels: int, size: tuple[int, int] | None = None) -> str:
    shown = f"{size[0]}x{size[1]} ({size[0] * size[1] / 1e6:.0f} megapixels)" if size else "huge"
    return (
        f"{file_name!r} is {shown}; the limit is {max_pixels / 1e6:.0f} megapixels "
        "(decompression-bomb guard)."
    )


@contextmanager
def _pillow_limits(file_name: str, max_pixels: int) -> Iterator[None]:
    """Decode under our pixel limit, refuse truncated data, and turn Pillow errors into reasons."""
    previous_limit, previous_truncated = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
    Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = max_pixels, False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ContentRejected(_bomb_message(file_name, max_pixels)) from exc
    except UnidentifiedImageError as exc:
        raise ContentRejected(f"{file_name!r} is not a readable image.") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ContentRejected(f"{file_name!r} is truncated or corrupt: {exc}") from exc
    finally:
        Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = previous_limit, previous_truncated


def _check_clip(file_name: str, data: bytes) -> CheckedFile:
    try:
        probe = media.probe_video(data)
        poster = media.poster_png(data)
    except media.MediaError as exc:
        raise ContentRejected(f"{file_name!r} is not a playable video: {exc}") from exc
    with Image.open(io.BytesIO(poster)) as frame:
        thumb = thumbnail_webp(frame.convert("RGB"))
    suffix = PurePath(file_name).suffix.lower()
    mime = {".webm": "video/webm", ".mov": "video/quicktime"}.get(suffix, "video/mp4")
    return CheckedFile(
        data=data,
        file_name=_safe_name(file_name, suffix if suffix in (".mp4", ".mov", ".webm") else ".mp4"),
        mime_type=mime,
        width=probe.width,
        height=probe.height,
        duration_s=round(probe.duration_s, 3),
        thumbnail_webp=thumb,
        palette=list(probe.dominant_palette),
    )


def thumbnail_webp(image: Image.Image) -> bytes:
    """Return a WebP thumbnail no larger than RETRIEVAL_THUMBNAIL_SIZE on its long side."""
    size = settings.RETRIEVAL_THUMBNAIL_SIZE
    thumb = image.copy()
    thumb.thumbnail((size, size))
    out = io.BytesIO()
    thumb.save(out, format="WEBP", quality=82)
    return out.getvalue()


def _small(image: Image.Image) -> Image.Image:
    small = image.copy()
    small.thumbnail((160, 160))
    return small


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _safe_name(file_name: str, suffix: str) -> str:
    """Keep the stem of the client's name (no directories) and a suffix that matches the bytes."""
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in PurePath(file_name).stem)
    stem = stem.strip("-")[:80] or "asset"
    given = PurePath(file_name).suffix.lower()
    keep = given == suffix or (suffix == ".jpg" and given == ".jpeg")
    return stem + (given if keep else suffix)
