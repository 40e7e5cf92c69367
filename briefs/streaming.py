"""Serve a stored file with HTTP Range support, through whatever storage backend holds it."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator

from django.core.files.storage import Storage
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

_CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class UnsatisfiableRange(ValueError):
    """The Range header asks for bytes the file does not have, or cannot be read."""


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Return (first, last) inclusive for a single byte range, None for no range.

    Several ranges, or a unit other than bytes, are answered with the whole file (RFC 9110).
    """
    header = header.strip()
    if not header:
        return None
    if not header.startswith("bytes=") or "," in header:
        return None
    match = _RANGE.match(header.replace(" ", ""))
    if not match or match.groups() == ("", ""):
        _raise(header)
    first_text, last_text = match.groups()
    if first_text == "":  # the final N bytes
        length = int(last_text)
        if length == 0 or size == 0:
            _raise(header)
        return max(0, size - length), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size or last < first:
        _raise(header)
    return first, min(last, size - 1)


def _raise(header: str):
    raise UnsatisfiableRange(header)


def _stream(storage: Storage, name: str, first: int, length: int) -> Iterator[bytes]:
    with storage.open(name, "rb") as handle:
        handle.seek(first)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def ranged_file_response(request: HttpRequest, storage: Storage, name: str) -> HttpResponse:
    """Answer 200 with the whole file, 206 with the asked range, or 416 when it is unsatisfiable."""
    size = storage.size(name)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    try:
        wanted = parse_range(request.headers.get("Range", ""), size)
    except UnsatisfiableRange:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    first, last = wanted if wanted else (0, size - 1)
    length = max(0, last - first + 1)
    response = StreamingHttpResponse(
        _stream(storage, name, first, length),
        status=206 if wanted else 200,
        content_type=content_type,
    )
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if wanted:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    # Private: media are only for signed-in users allowed to see the brief.
    response["Cache-Control"] = "private, max-age=3600"
    return response
