"""Render a brief's approved cut: the approved takes in shot order as one MP4, with PyAV.

Every clip is re-encoded to one size and frame rate (the first clip's size, letterboxed where
another's aspect differs), and to one AAC track when any clip has sound (silence elsewhere), so
the file plays anywhere and its length is the sum of the takes'.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from fractions import Fraction

import av
from django.core.files import File
from django.utils import timezone
from PIL import Image, ImageOps

from briefs.models import Take
from review.models import CutRender

logger = logging.getLogger(__name__)

FPS = 24
SAMPLE_RATE = 48_000
AAC_FRAME = 1024


def _clip_duration(take: Take, container: av.container.InputContainer) -> float:
    if take.duration_s:
        return float(take.duration_s)
    stream = container.streams.video[0]
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return container.duration / av.time_base if container.duration else 0.0


def _first_frame_size(take: Take) -> tuple[int, int]:
    with take.media.open("rb") as source, av.open(source) as container:
        frame = next(container.decode(video=0))
    # H.264 in 4:2:0 needs even sides.
    return frame.width // 2 * 2, frame.height // 2 * 2


def clip_has_audio(take: Take) -> bool:
    """Tell whether the take's clip has sound: as its checks measured, else by probing the file."""
    if take.has_audio is not None:
        return take.has_audio
    try:
        with take.media.open("rb") as source, av.open(source) as container:
            return bool(container.streams.audio)
    except (av.FFmpegError, OSError):
        return False


def _frames_at_rate(
    container: av.container.InputContainer, count: int, size: tuple[int, int]
) -> Iterator[av.VideoFrame]:
    """Yield `count` frames at FPS: at each tick, the clip's latest frame shown by then."""
    decoded = container.decode(video=0)
    shown = upcoming = next(decoded, None)
    origin = upcoming.time if upcoming is not None and upcoming.time else 0.0
    image = None
    for tick in range(count):
        moment = tick / FPS
        while upcoming is not None and (upcoming.time or 0.0) - origin <= moment + 1e-6:
            shown, image = upcoming, None
            upcoming = next(decoded, None)
        if image is None and shown is not None:
            picture = shown.to_image()
            if picture.size != size:
                picture = ImageOps.pad(picture, size, color=(0, 0, 0))
            image = picture
        yield av.VideoFrame.from_image(image or Image.new("RGB", size))


def _silence(samples: int) -> av.AudioFrame:
    frame = av.AudioFrame(format="fltp", layout="stereo", samples=samples)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate = SAMPLE_RATE
    return frame


def _clip_audio(container: av.container.InputContainer, samples: int) -> Iterator[av.AudioFrame]:
    """Yield exactly `samples` of the clip's sound at SAMPLE_RATE, padded with silence."""
    written = 0
    if container.streams.audio:
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
        container.seek(0)
        for decoded in container.decode(audio=0):
            for frame in resampler.resample(decoded):
                wanted = samples - written
                if wanted <= 0:
                    return
                if frame.samples > wanted:
                    trimmed = av.AudioFrame.from_ndarray(
                        frame.to_ndarray()[:, :wanted], format="fltp", layout="stereo"
                    )
                    trimmed.sample_rate = SAMPLE_RATE
                    frame = trimmed
                frame.pts = None
                written += frame.samples
                yield frame
    if samples > written:
        yield _silence(samples - written)


def _encode_audio(
    output: av.container.OutputContainer, stream: av.AudioStream, fifo: av.AudioFifo, *, final=False
) -> None:
    while fifo.samples >= AAC_FRAME or (final and fifo.samples):
        frame = fifo.read(min(AAC_FRAME, fifo.samples))
        for packet in stream.encode(frame):
            output.mux(packet)


def _set_progress(cut_id: int, done: int, total: int) -> None:
    # update() skips auto_now: the time is set here so request_cut can tell a live render.
    CutRender.objects.filter(pk=cut_id).update(
        progress=min(99, round(100 * done / total)), updated_at=timezone.now()
    )


def write_cut(file, takes: list[Take], *, cut_id: int) -> float:
    """Encode the takes one after another into `file` (MP4); return its length in seconds."""
    size = _first_frame_size(takes[0])
    with_audio = any(clip_has_audio(take) for take in takes)
    frames_written = 0
    with av.open(file, mode="w", format="mp4") as output:
        video = output.add_stream("libx264", rate=FPS)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "veryfast", "crf": "23"}
        audio = fifo = None
        if with_audio:
            audio = output.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
            fifo = av.AudioFifo()
        for done, take in enumerate(takes):
            with take.media.open("rb") as source, av.open(source) as container:
                count = round(_clip_duration(take, container) * FPS)
                for frame in _frames_at_rate(container, count, size):
                    frame.pts, frame.time_base = frames_written, Fraction(1, FPS)
                    frames_written += 1
                    for packet in video.encode(frame.reformat(format="yuv420p")):
                        output.mux(packet)
                if audio is not None:
                    for frame in _clip_audio(container, round(count * SAMPLE_RATE / FPS)):
                        fifo.write(frame)
                        _encode_audio(output, audio, fifo)
            _set_progress(cut_id, done + 1, len(takes))
        for packet in video.encode(None):
            output.mux(packet)
        if audio is not None:
            _encode_audio(output, audio, fifo, final=True)
            for packet in audio.encode(None):
                output.mux(packet)
    return frames_written / FPS


def render_cut(*, cut_id: int) -> None:
    """Render a queued cut once; a cut another worker claimed, or already made, is left alone."""
    claimed = CutRender.objects.filter(pk=cut_id, status=CutRender.Status.QUEUED).update(
        status=CutRender.Status.RENDERING, progress=0
    )
    if not claimed:
        return
    cut = CutRender.objects.get(pk=cut_id)
    by_id = Take.objects.select_related("shot").in_bulk([pk for pk, _ in cut.takes])
    takes = [by_id[pk] for pk, _ in cut.takes if pk in by_id and by_id[pk].media]
    try:
        if not takes:
            raise ValueError("the approved takes are gone")
        with tempfile.TemporaryFile(suffix=".mp4") as out:
            duration = write_cut(out, takes, cut_id=cut.pk)
            out.seek(0)
            cut.file.save(f"brief-{cut.brief_id}-cut-{cut.key[:12]}.mp4", File(out), save=False)
    except (av.FFmpegError, OSError, ValueError, StopIteration) as error:
        logger.exception("Rendering approved cut %s failed", cut.pk)
        CutRender.objects.filter(pk=cut.pk).update(
            status=CutRender.Status.FAILED, error=f"The cut could not be rendered: {error}"
        )
        return
    CutRender.objects.filter(pk=cut.pk).update(
        status=CutRender.Status.READY, progress=100, file=cut.file.name, duration_s=duration
    )
