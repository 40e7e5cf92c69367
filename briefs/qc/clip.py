"""Clip QC on FFmpeg's own detectors, run through PyAV filter graphs in one decoding pass.

Each frame is decoded once, scaled down once (the defects looked for survive 160 px wide, and
every filter then has a sixteenth of the work) and pushed through one chain of detectors whose
verdicts arrive as frame metadata: blackdetect, freezedetect, scdet (cuts), signalstats
(brightness, for flicker), bbox (letterbox/pillarbox) and siti (blank or noise). Audio, when
there is any, goes through ebur128 (loudness), silencedetect and astats (peaks). Every finding
says when in the clip it happened.
"""

from __future__ import annotations

import io
import itertools
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import av
from django.conf import settings
from PIL import Image

from briefs.qc import identity
from briefs.qc.report import ClipReport, QcFinding, UnreadableClip

Segment = tuple[float, float]
_FREEZE_KEYS = ("freeze_start", "freeze_end")
# Swings further apart than this are separate events (a black insert), not strobing.
_STROBE_GAP_S = 0.3


@dataclass
class _VideoTrack:
    """Per-frame measurements and detector events from the video graph."""

    width: int = 0
    height: int = 0
    frame_s: float = 0.0
    times: list[float] = field(default_factory=list)
    luma: list[float] = field(default_factory=list)
    detail: list[float] = field(default_factory=list)
    change: list[float] = field(default_factory=list)
    cut_score: list[float] = field(default_factory=list)
    black_edges: list[tuple[str, float]] = field(default_factory=list)
    freeze_edges: list[tuple[str, float]] = field(default_factory=list)
    content_box: tuple[int, int, int, int] | None = None
    analysis_size: tuple[int, int] = (0, 0)
    samples: list[Image.Image] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.times[-1] + self.frame_s if self.times else 0.0


@dataclass
class _AudioTrack:
    """Detector events and loudness from the audio graph."""

    end_s: float = 0.0
    silence_edges: list[tuple[str, float]] = field(default_factory=list)
    peaks: list[tuple[float, float, float]] = field(default_factory=list)
    integrated_lufs: float | None = None


def qc_clip(
    video_bytes: bytes,
    *,
    expected_duration_s: float,
    aspect_ratio: str,
    expect_audio: bool | None = None,
    reference_images: Sequence[str] = (),
    palette: Sequence[str] = (),
) -> ClipReport:
    """Check a clip for black, frozen, flickering, cut, boxed, blank or noisy stretches and more.

    `expect_audio` True makes silence (or no audio track) a fault, False accepts a silent clip,
    None judges audio only when the clip has some. References and palette add the identity and
    palette findings. Raises UnreadableClip when the bytes cannot be decoded as a video.
    """
    started = time.perf_counter()
    video, audio = _measure(video_bytes)
    end = video.duration_s
    black = _edges_to_segments(video.black_edges, "black_start", "black_end", end)
    findings = [
        *_black_findings(black),
        *_freeze_findings(
            _minus(_edges_to_segments(video.freeze_edges, *_FREEZE_KEYS, end), black)
        ),
        *_flicker_findings(video),
        *_cut_findings(video, black),
        *_detail_findings(video, black),
        _border_finding(video),
        _duration_finding(video.duration_s, expected_duration_s),
        _aspect_finding(video.width, video.height, aspect_ratio),
        *_audio_findings(audio, expect_audio),
    ]
    frames = video.samples
    if reference_images:
        findings.append(identity.identity_finding(frames, reference_images, end_s=end))
    if palette or reference_images:
        findings.append(identity.palette_finding(frames, palette, reference_images, end_s=end))
    return ClipReport(
        findings=tuple(findings),
        duration_s=round(video.duration_s, 3),
        width=video.width,
        height=video.height,
        has_audio=audio is not None,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        measured=_raw_measurements(video, black),
    )


def _raw_measurements(video: _VideoTrack, black: Sequence[Segment]) -> dict[str, float]:
    """Return what calibration needs beyond the findings: the largest brightness step.

    Frames in or next to a black stretch are left out: they measure the fault, not the picture.
    """
    edge = 1.5 * video.frame_s
    lit = {
        i
        for i, at in enumerate(video.times)
        if not any(a - edge <= at <= b + edge for a, b in black)
    }
    steps = [abs(video.luma[i] - video.luma[i - 1]) for i in lit if i - 1 in lit]
    return {"largest_luma_step": _r(max(steps, default=0.0))}


def _measure(video_bytes: bytes) -> tuple[_VideoTrack, _AudioTrack | None]:
    """Decode the clip once, feeding video and audio frames to their detector graphs."""
    if not video_bytes:
        raise UnreadableClip("the file is empty")
    try:
        with av.open(io.BytesIO(video_bytes), mode="r") as container:
            if not container.streams.video:
                raise UnreadableClip("the file has no video stream")
            video_stream = container.streams.video[0]
            audio_stream = container.streams.audio[0] if container.streams.audio else None
            video = _VideoAnalysis(video_stream)
            audio = _AudioAnalysis(audio_stream) if audio_stream is not None else None
            streams = [s for s in (video_stream, audio_stream) if s is not None]
            for packet in container.demux(*streams):
                for frame in packet.decode():
                    if packet.stream is video_stream:
                        video.push(frame)
                    elif audio is not None:
                        audio.push(frame)
            video_track = video.finish()
            audio_track = audio.finish() if audio is not None else None
    except av.FFmpegError as exc:
        raise UnreadableClip(f"not a readable video: {exc}") from exc
    if not video_track.times:
        raise UnreadableClip("the video stream has no decodable frames")
    return video_track, audio_track


def _pulled(graph: av.filter.Graph) -> Iterator[av.VideoFrame | av.AudioFrame]:
    while True:
        try:
            yield graph.pull()
        except (av.BlockingIOError, av.EOFError):
            return


def _chain(
    graph: av.filter.Graph, source: av.filter.context.FilterContext, *filters: tuple[str, str]
) -> None:
    previous = source
    for name, args in filters:
        node = graph.add(name, args) if args else graph.add(name)
        previous.link_to(node)
        previous = node


class _VideoAnalysis:
    """One filter chain over downscaled frames; detector events are read from frame metadata."""

    def __init__(self, stream: av.VideoStream) -> None:
        s = settings
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            raise UnreadableClip("the video stream has no frame size")
        sar = stream.sample_aspect_ratio
        display_width = round(width * float(sar)) if sar else width
        analysis_w = min(s.PIPELINE_QC_ANALYSIS_WIDTH, width) // 2 * 2
        analysis_h = max(2, round(analysis_w * height / display_width / 2) * 2)
        rate = stream.average_rate or stream.guessed_rate
        self.track = _VideoTrack(
            width=display_width,
            height=height,
            frame_s=1 / float(rate) if rate else 0.0,
            analysis_size=(analysis_w, analysis_h),
        )
        self.sample_every_s = s.PIPELINE_QC_SAMPLE_EVERY_S
        self.graph = av.filter.Graph()
        _chain(
            self.graph,
            self.graph.add_buffer(template=stream),
            ("scale", f"{analysis_w}:{analysis_h}:flags=area"),
            ("format", "yuv420p"),
            ("blackdetect", f"d=0:pix_th={s.PIPELINE_QC_BLACK_PIXEL_TH}:pic_th=0.98"),
            ("freezedetect", f"n={s.PIPELINE_QC_FREEZE_NOISE}:d={s.PIPELINE_QC_FREEZE_MIN_S}"),
            ("scdet", "threshold=100"),
            ("signalstats", ""),
            ("bbox", f"min_val={s.PIPELINE_QC_BORDER_LUMA}"),
            ("siti", ""),
            ("buffersink", ""),
        )
        self.graph.configure()
        self.next_sample_s = 0.0

    def push(self, frame: av.VideoFrame) -> None:
        self.graph.push(frame)
        for out in _pulled(self.graph):
            self._read(out)

    def finish(self) -> _VideoTrack:
        return self.track

    def _read(self, frame: av.VideoFrame) -> None:
        track, meta = self.track, frame.metadata
        at = float(frame.time or 0.0)
        track.times.append(at)
        track.luma.append(float(meta.get("lavfi.signalstats.YAVG", 0.0)))
        track.detail.append(float(meta.get("lavfi.siti.si", 0.0)))
        track.change.append(float(meta.get("lavfi.siti.ti", 0.0)))
        track.cut_score.append(float(meta.get("lavfi.scd.score", 0.0)))
        for key, edges in (
            ("lavfi.black_start", track.black_edges),
            ("lavfi.black_end", track.black_edges),
            ("lavfi.freezedetect.freeze_start", track.freeze_edges),
            ("lavfi.freezedetect.freeze_end", track.freeze_edges),
        ):
            if key in meta:
                edges.append((key.rsplit(".", 1)[-1], float(meta[key])))
        if "lavfi.bbox.x1" in meta:
            box = tuple(int(meta[f"lavfi.bbox.{k}"]) for k in ("x1", "y1", "x2", "y2"))
            old = track.content_box
            track.content_box = (
                box
                if old is None
                else (
                    min(old[0], box[0]),
                    min(old[1], box[1]),
                    max(old[2], box[2]),
                    max(old[3], box[3]),
                )
            )
        if at >= self.next_sample_s:
            track.samples.append(frame.to_image())
            self.next_sample_s = at + self.sample_every_s


class _AudioAnalysis:
    """silencedetect, per-frame astats peaks and ebur128 loudness over the audio track."""

    def __init__(self, stream: av.AudioStream) -> None:
        s = settings
        self.track = _AudioTrack()
        self.graph = av.filter.Graph()
        _chain(
            self.graph,
            self.graph.add_abuffer(template=stream),
            # ebur128 re-frames the audio, dropping earlier filters' metadata: it goes first.
            ("ebur128", "metadata=1"),
            ("silencedetect", f"n={s.PIPELINE_QC_SILENCE_DB}dB:d={s.PIPELINE_QC_SILENCE_MIN_S}"),
            (
                "astats",
                "metadata=1:reset=1:measure_perchannel=none:measure_overall=Peak_level",
            ),
            ("abuffersink", ""),
        )
        self.graph.configure()

    def push(self, frame: av.AudioFrame) -> None:
        self.graph.push(frame)
        self._drain()

    def finish(self) -> _AudioTrack:
        self.graph.push(None)
        self._drain()
        return self.track

    def _drain(self) -> None:
        track = self.track
        for frame in _pulled(self.graph):
            meta = frame.metadata
            start = float(frame.time or 0.0)
            end = start + frame.samples / frame.sample_rate
            track.end_s = max(track.end_s, end)
            for key in ("lavfi.silence_start", "lavfi.silence_end"):
                if key in meta:
                    track.silence_edges.append((key.rsplit(".", 1)[-1], float(meta[key])))
            if "lavfi.astats.Overall.Peak_level" in meta:
                peak = float(meta["lavfi.astats.Overall.Peak_level"])
                track.peaks.append((start, end, peak))
            if "lavfi.r128.I" in meta:
                track.integrated_lufs = float(meta["lavfi.r128.I"])


def _edges_to_segments(
    edges: Sequence[tuple[str, float]], start_key: str, end_key: str, clip_end: float
) -> list[Segment]:
    """Pair start/end events; a segment still open when the clip ends runs to its end."""
    segments: list[Segment] = []
    opened: float | None = None
    for key, at in edges:
        if key == start_key and opened is None:
            opened = at
        elif key == end_key and opened is not None:
            segments.append((opened, at))
            opened = None
    if opened is not None:
        segments.append((opened, clip_end))
    return segments


def _minus(segments: Sequence[Segment], removed: Sequence[Segment]) -> list[Segment]:
    """Cut the removed stretches out of segments (a black stretch is also a still one)."""
    remaining = list(segments)
    for cut_start, cut_end in removed:
        pieces = []
        for start, end in remaining:
            if start < cut_start:
                pieces.append((start, min(end, cut_start)))
            if end > cut_end:
                pieces.append((max(start, cut_end), end))
        remaining = pieces
    return remaining


def _runs(times: Sequence[float], flags: Sequence[bool], frame_s: float) -> list[Segment]:
    """Return the stretches of consecutive frames whose flag is set, as (start, end) times."""
    segments: list[Segment] = []
    opened: float | None = None
    for at, flag in zip(times, flags, strict=True):
        if flag and opened is None:
            opened = at
        elif not flag and opened is not None:
            segments.append((opened, at))
            opened = None
    if opened is not None:
        segments.append((opened, times[-1] + frame_s))
    return segments


def _r(value: float) -> float:
    return round(value, 3)


def _segment_findings(
    check: str,
    segments: Sequence[Segment],
    *,
    min_s: float,
    limit: str,
    reason: Callable[[Segment], str],
) -> list[QcFinding]:
    """One failed finding per long-enough segment (value: its length), or one passed finding."""
    long_enough = [(a, b) for a, b in segments if b - a >= min_s - 1e-6]
    if not long_enough:
        longest = max((b - a for a, b in segments), default=0.0)
        return [QcFinding(check, True, _r(longest), limit)]
    return [
        QcFinding(check, False, _r(b - a), limit, _r(a), _r(b), reason((a, b)))
        for a, b in long_enough
    ]


def _black_findings(black: Sequence[Segment]) -> list[QcFinding]:
    min_s = settings.PIPELINE_QC_BLACK_MIN_S
    return _segment_findings(
        "black",
        black,
        min_s=min_s,
        limit=f"< {min_s} s",
        reason=lambda seg: f"black from {seg[0]:.2f} s to {seg[1]:.2f} s",
    )


def _freeze_findings(frozen: Sequence[Segment]) -> list[QcFinding]:
    min_s = settings.PIPELINE_QC_FREEZE_MIN_S
    return _segment_findings(
        "frozen",
        frozen,
        min_s=min_s,
        limit=f"< {min_s} s",
        reason=lambda seg: f"picture frozen from {seg[0]:.2f} s to {seg[1]:.2f} s",
    )


def _flicker_findings(video: _VideoTrack) -> list[QcFinding]:
    """Count brightness reversals (a swing up soon followed by one down, or back) per second.

    A cut or a fade moves brightness once, a black insert twice far apart; strobing reverses
    it again and again within a fraction of a second.
    """
    swing = settings.PIPELINE_QC_FLICKER_SWING
    per_second = settings.PIPELINE_QC_FLICKER_MAX_REVERSALS
    swings = [
        (at, b > a)
        for at, (a, b) in zip(video.times[1:], itertools.pairwise(video.luma), strict=True)
        if abs(b - a) >= swing
    ]
    reversals = [
        second_at
        for (first_at, first_up), (second_at, second_up) in itertools.pairwise(swings)
        if first_up != second_up and second_at - first_at <= _STROBE_GAP_S
    ]
    densest = max(
        (sum(1 for t in reversals if start <= t < start + 1.0) for start in reversals), default=0
    )
    limit = f"<= {per_second} reversals/s of >= {swing} luma"
    if densest <= per_second:
        return [QcFinding("flicker", True, densest, limit)]
    start, end = reversals[0] - video.frame_s, reversals[-1] + video.frame_s
    reason = (
        f"brightness strobes from {start:.2f} s to {end:.2f} s ({densest} reversals in one second)"
    )
    return [QcFinding("flicker", False, densest, limit, _r(start), _r(end), reason)]


def _cut_findings(video: _VideoTrack, black: Sequence[Segment]) -> list[QcFinding]:
    """Find scene changes inside the shot; a change into or out of black is the black finding's."""
    limit_score = settings.PIPELINE_QC_CUT_SCORE
    near_black = [edge for segment in black for edge in segment]

    def explained(at: float) -> bool:
        return any(abs(at - edge) <= 1.5 * video.frame_s for edge in near_black)

    cuts = [
        (at, score)
        for at, score in zip(video.times[1:], video.cut_score[1:], strict=True)
        if not explained(at)
    ]
    worst = max((score for _, score in cuts), default=0.0)
    limit = f"< {limit_score}"
    found = [(at, score) for at, score in cuts if score >= limit_score]
    if not found:
        return [QcFinding("cut", True, _r(worst), limit)]
    return [
        QcFinding(
            "cut",
            False,
            _r(score),
            limit,
            _r(at - video.frame_s),
            _r(at),
            f"the picture cuts to a different scene at {at:.2f} s (scene score {score:.0f})",
        )
        for at, score in found
    ]


def _detail_findings(video: _VideoTrack, black: Sequence[Segment]) -> list[QcFinding]:
    """Blank stretches (too little spatial detail, black aside) and noise (all change, no form).

    Noise is judged by siti's temporal change relative to spatial detail: scaled down, fresh
    noise in every frame averages to a soft picture that no two frames agree on, whereas even
    a fast camera move changes a frame by less than the detail it carries.
    """
    s = settings
    low, high = s.PIPELINE_QC_MIN_DETAIL, s.PIPELINE_QC_MAX_CHANGE_RATIO
    # Black frames have no detail either; they are the black finding's.
    detail = [
        math.inf if any(a <= t < b for a, b in black) else d
        for t, d in zip(video.times, video.detail, strict=True)
    ]
    ratios = [c / max(d, 1.0) for c, d in zip(video.change, video.detail, strict=True)]
    return [
        _level_finding(
            "blank",
            video,
            detail,
            measure="spatial detail",
            limit=low,
            bad_is_high=False,
            describe="flat, with no detail",
        ),
        _level_finding(
            "noise",
            video,
            ratios,
            measure="change per unit of detail",
            limit=high,
            bad_is_high=True,
            describe="noise",
        ),
    ]


def _level_finding(
    check: str,
    video: _VideoTrack,
    levels: Sequence[float],
    *,
    measure: str,
    limit: float,
    bad_is_high: bool,
    describe: str,
) -> QcFinding:
    """Find the longest stretch of DETAIL_MIN_S or more where every frame is past the limit.

    The value is the level the worst such stretch sustains (its best frame), so a clean clip
    reports how close it came and a bad one how bad it stayed.
    """
    span = max(1, round(settings.PIPELINE_QC_DETAIL_MIN_S / video.frame_s)) if video.frame_s else 1
    windows = [levels[i : i + span] for i in range(max(1, len(levels) - span + 1))]
    if bad_is_high:
        sustained = max(min(window) for window in windows)
        past = sustained > limit
        label = f"{measure} <= {limit}"
    else:
        sustained = min(max(window) for window in windows)
        past = sustained < limit
        label = f"{measure} >= {limit}"
    value = _r(sustained) if math.isfinite(sustained) else None
    if not past:
        return QcFinding(check, True, value, label)
    flags = [(v > limit) if bad_is_high else (v < limit) for v in levels]
    start, end = max(_runs(video.times, flags, video.frame_s), key=lambda seg: seg[1] - seg[0])
    reason = f"picture is {describe} from {start:.2f} s to {end:.2f} s"
    return QcFinding(check, False, value, label, _r(start), _r(end), reason)


def _border_finding(video: _VideoTrack) -> QcFinding:
    """Compare the box that holds picture in any frame with the frame: bars mean boxed content."""
    limit_share = settings.PIPELINE_QC_MAX_BORDER_SHARE
    limit = f"bars <= {limit_share:.0%} of the frame"
    width, height = video.analysis_size
    if video.content_box is None:
        return QcFinding("letterbox", True, None, limit)
    x1, y1, x2, y2 = video.content_box
    side_bars = 1 - (x2 - x1 + 1) / width
    top_bars = 1 - (y2 - y1 + 1) / height
    share = max(side_bars, top_bars)
    if share <= limit_share:
        return QcFinding("letterbox", True, _r(share), limit)
    kind = "pillarboxed (bars left and right)" if side_bars >= top_bars else "letterboxed"
    content_aspect = ((x2 - x1 + 1) / width * video.width) / ((y2 - y1 + 1) / height * video.height)
    reason = (
        f"picture is {kind}: content is {content_aspect:.2f}:1 inside a "
        f"{video.width / video.height:.2f}:1 frame ({share:.0%} bars)"
    )
    return QcFinding("letterbox", False, _r(share), limit, 0.0, _r(video.duration_s), reason)


def _duration_finding(duration_s: float, expected_s: float) -> QcFinding:
    tolerance = settings.PIPELINE_DURATION_TOLERANCE_S
    passed = abs(duration_s - expected_s) <= tolerance
    return QcFinding(
        "duration",
        passed,
        _r(duration_s),
        f"{expected_s} ± {tolerance} s",
        None if passed else 0.0,
        None if passed else _r(duration_s),
        f"clip lasts {duration_s:.2f} s, the shot needs {expected_s} s",
    )


def _aspect_finding(width: int, height: int, aspect_ratio: str) -> QcFinding:
    want_w, want_h = (int(side) for side in aspect_ratio.split(":"))
    wanted = want_w / want_h
    error = abs(width / height - wanted) / wanted
    passed = error <= settings.PIPELINE_ASPECT_TOLERANCE
    return QcFinding(
        "aspect",
        passed,
        f"{width}x{height}",
        aspect_ratio,
        reason=f"clip is {width}x{height} ({width / height:.2f}:1), the shot needs {aspect_ratio}",
    )


def _audio_findings(audio: _AudioTrack | None, expect_audio: bool | None) -> list[QcFinding]:
    """Silence (a fault only when audio is expected), clipping and EBU R128 loudness."""
    s = settings
    if audio is None:
        if expect_audio:
            return [QcFinding("audio", False, None, "an audio track", reason="clip has no audio")]
        return []
    silences = _edges_to_segments(audio.silence_edges, "silence_start", "silence_end", audio.end_s)
    min_s = s.PIPELINE_QC_SILENCE_MIN_S
    findings = _segment_findings(
        "silence",
        silences,
        min_s=min_s,
        limit=f"< {min_s} s below {s.PIPELINE_QC_SILENCE_DB} dBFS",
        reason=lambda seg: f"audio is silent from {seg[0]:.2f} s to {seg[1]:.2f} s",
    )
    if not expect_audio:
        # Silence was not asked for either way; report it without failing the clip.
        findings = [
            QcFinding(f.check, True, f.value, f.limit, f.start_s, f.end_s) for f in findings
        ]
    all_silent = sum(b - a for a, b in silences) >= audio.end_s - min_s
    findings.append(_clipping_finding(audio))
    if not (all_silent and not expect_audio):
        findings.append(_loudness_finding(audio))
    return findings


def _clipping_finding(audio: _AudioTrack) -> QcFinding:
    max_peak = settings.PIPELINE_QC_MAX_PEAK_DB
    limit = f"peak < {max_peak} dBFS"
    clipped = [(a, b) for a, b, peak in audio.peaks if peak >= max_peak]
    worst = max((peak for _, _, peak in audio.peaks), default=-120.0)
    if not clipped:
        return QcFinding("clipping", True, _r(worst), limit)
    start, end = clipped[0][0], clipped[-1][1]
    return QcFinding(
        "clipping",
        False,
        _r(worst),
        limit,
        _r(start),
        _r(end),
        f"audio clips (peak {worst:.1f} dBFS) between {start:.2f} s and {end:.2f} s",
    )


def _loudness_finding(audio: _AudioTrack) -> QcFinding:
    low, high = settings.PIPELINE_QC_MIN_LUFS, settings.PIPELINE_QC_MAX_LUFS
    lufs = audio.integrated_lufs if audio.integrated_lufs is not None else -70.0
    passed = low <= lufs <= high
    word = "quiet" if lufs < low else "loud"
    return QcFinding(
        "loudness",
        passed,
        _r(lufs),
        f"{low}..{high} LUFS",
        None if passed else 0.0,
        None if passed else _r(audio.end_s),
        f"audio is too {word}: {lufs:.1f} LUFS integrated (EBU R128)",
    )
