"""Calibrate clip QC: measure every detector on good and subtly bad clips, then pick thresholds.

The clips are made here, independently of Studio's renderer: Pillow frames and a PyAV encoder,
calm pans and push-ins over the demo catalog's art (re-drawn and re-graded, so a take is like its
reference, not a copy of it), at 24 fps like a video model, some with an ambience track. Each
bad clip carries one fault, named by how it was made (the ground truth never comes from a check).

For each detector it prints the measured values on good clips and on the faults it is meant to
catch, the threshold that separates them (half way between the worst good clip and the mildest
bad one, to three figures; when they overlap it says so and keeps good clips passing), flags
any default in studio/settings.py that differs, and then, running qc_clip with the measured
thresholds, per fault kind how many clips were caught, and how many good clips were wrongly
failed. Last line: one JSON object.

    .venv/bin/python bench/calibrate_qc.py [--seed 12] [--good 30] [--per-fault 6]
"""

from __future__ import annotations

import argparse
import array
import io
import json
import math
import os
import random
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image, ImageChops, ImageEnhance, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FPS = 24
SIZE = (640, 360)
SAMPLE_RATE = 48_000
CHARACTERS = ("mira", "tobin", "pip")
SCENES = ("harbour", "festival", "fog", "lighthouse", "storm")


@dataclass(frozen=True)
class Clip:
    """A made clip and how to judge it: what the shot asked for, and what was done to it."""

    kind: str
    video: bytes
    subject: str
    expected_duration_s: float
    expect_audio: bool | None


# --- Making clips -------------------------------------------------------------------------------
def art(name: str, rng: random.Random) -> Image.Image:
    """Draw one of the demo catalog's pictures (rng varies the houses, as a re-drawing would)."""
    from retrieval import demo

    drawers = {
        "mira": demo.mira,
        "tobin": demo.tobin,
        "pip": demo.pip_on_rooftops,
        "harbour": demo.harbour_at_dusk,
        "festival": demo.lantern_festival,
        "fog": demo.fog_on_the_quay,
        "lighthouse": demo.lighthouse,
        "storm": demo.storm,
    }
    return drawers[name](rng)


def regrade(image: Image.Image, rng: random.Random) -> Image.Image:
    """Grade brighter or darker, shift saturation and balance, soften: a generator's look.

    Darker grades stand for low-key shots, down to 60% brightness and 80% contrast: below that
    a night scene of the demo IP goes near-black, which its style guide rules out.
    """
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.6, 1.1))
    image = ImageEnhance.Contrast(image).enhance(rng.uniform(0.8, 1.1))
    image = ImageEnhance.Color(image).enhance(rng.uniform(0.85, 1.15))
    balance = [rng.randint(-8, 8) for _ in range(3)]
    image = Image.merge(
        "RGB",
        [
            band.point(lambda v, shift=shift: max(0, min(255, v + shift)))
            for band, shift in zip(image.split(), balance, strict=True)
        ],
    )
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))


def rotate_hue(image: Image.Image, turn: float) -> Image.Image:
    """Turn every hue by `turn` (0..1) at the same lightness: an off-brand grade."""
    hue, saturation, value = image.convert("HSV").split()
    shift = round(turn * 255)
    hue = hue.point(lambda v: (v + shift) % 256)
    return Image.merge("HSV", (hue, saturation, value)).convert("RGB")


def camera(image: Image.Image, frames: int, rng: random.Random) -> Iterator[Image.Image]:
    """Yield a calm pan, tilt, push-in or pull-out over the picture, eased, with a little grain."""
    move = rng.choice(("pan_left", "pan_right", "push_in", "pull_out", "tilt"))
    width, height = image.size
    aspect = SIZE[0] / SIZE[1]
    full_w = min(width, height * aspect)
    travel = rng.uniform(0.06, 0.14)
    grain = rng.uniform(0, 4)
    # A few grain plates, cycled: fresh noise per frame costs more than the rest of the frame.
    plates = [Image.effect_noise(SIZE, 64).convert("RGB") for _ in range(5)] if grain else []
    for index in range(frames):
        t = index / max(frames - 1, 1)
        eased = 0.5 - 0.5 * math.cos(math.pi * t)
        scale = 0.86
        fx = fy = 0.5
        if move == "push_in":
            scale = 0.9 - travel * eased
        elif move == "pull_out":
            scale = 0.9 - travel * (1 - eased)
        elif move == "tilt":
            fy = 0.3 + 0.4 * eased
        else:
            fx = 0.5 + (travel * 3 if move == "pan_right" else -travel * 3) * (eased - 0.5)
        crop_w, crop_h = full_w * scale, full_w * scale / aspect
        x, y = fx * (width - crop_w), fy * (height - crop_h)
        frame = image.resize(SIZE, Image.Resampling.BILINEAR, box=(x, y, x + crop_w, y + crop_h))
        if grain:
            noise = plates[index % len(plates)]
            frame = Image.blend(
                frame, ImageChops.add(frame, noise, scale=1, offset=-128), grain / 64
            )
        yield frame


def ambience(duration_s: float, rng: random.Random) -> list[float]:
    """Synthesise harbour ambience: low rumble, a soft pad and lapping water, -30 to -14 dB RMS."""
    count = round(duration_s * SAMPLE_RATE)
    pad = rng.choice((110.0, 130.8, 146.8))
    out, rumble = [], 0.0
    for n in range(count):
        t = n / SAMPLE_RATE
        rumble = 0.995 * rumble + 0.005 * rng.uniform(-1, 1)
        lap = 0.5 + 0.5 * math.sin(2 * math.pi * 0.7 * t)
        out.append(
            0.8 * rumble * 20
            + 0.05 * math.sin(2 * math.pi * pad * t)
            + 0.025 * math.sin(2 * math.pi * pad * 1.5 * t)
            + 0.02 * lap * rng.uniform(-1, 1)
        )
    rms = math.sqrt(sum(v * v for v in out) / len(out)) or 1.0
    target = 10 ** (rng.uniform(-30, -14) / 20)
    return [v * target / rms for v in out]


def encode(
    frames: Iterator[Image.Image], size: tuple[int, int], samples: list[float] | None
) -> bytes:
    """Encode H.264 (and AAC when there are samples) into an MP4, as a video model delivers it."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "veryfast", "crf": "21"}
        audio = None
        if samples is not None:
            audio = container.add_stream("aac", rate=SAMPLE_RATE)
            audio.layout = "mono"
        for image in frames:
            for packet in video.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        if audio is not None and samples is not None:
            for start in range(0, len(samples), 1024):
                chunk = array.array("f", samples[start : start + 1024])
                frame = av.AudioFrame(format="flt", layout="mono", samples=len(chunk))
                frame.planes[0].update(chunk.tobytes())
                frame.sample_rate = SAMPLE_RATE
                frame.pts = start
                for packet in audio.encode(frame):
                    container.mux(packet)
            for packet in audio.encode(None):
                container.mux(packet)
    return out.getvalue()


def boxed(frame: Image.Image, content: tuple[int, int]) -> Image.Image:
    """Shrink the picture to `content` and centre it on black bars."""
    canvas = Image.new("RGB", SIZE, (0, 0, 0))
    inner = frame.resize(content, Image.Resampling.BILINEAR)
    canvas.paste(inner, ((SIZE[0] - content[0]) // 2, (SIZE[1] - content[1]) // 2))
    return canvas


def make_clip(kind: str, rng: random.Random) -> Clip:
    """Make one good clip or one clip with the named fault."""
    # Good clips and most faults range over every picture; identity faults swap characters.
    subject = rng.choice(CHARACTERS if kind == "other_character" else CHARACTERS + SCENES)
    duration = 2.5 if kind == "short" else 4.0
    frames_n = round(duration * FPS)
    picture = regrade(art(subject, rng), rng)
    if kind == "other_character":
        picture = regrade(art(rng.choice([c for c in CHARACTERS if c != subject]), rng), rng)
    if kind == "off_palette":
        picture = rotate_hue(picture, rng.uniform(0.25, 0.75))
    frames = list(camera(picture, frames_n, rng))
    size = SIZE
    black = Image.new("RGB", SIZE, (rng.randint(0, 3),) * 3)
    if kind == "black_start":
        frames[: round(1.5 * FPS)] = [black] * round(1.5 * FPS)
    elif kind == "black_end":
        frames[-FPS:] = [black] * FPS
    elif kind == "black_middle":
        start = round(rng.uniform(1.2, 2.4) * FPS)
        frames[start : start + round(0.5 * FPS)] = [black] * round(0.5 * FPS)
    elif kind == "frozen":
        held = round(1.7 * FPS)
        frames[held:] = [frames[held]] * (frames_n - held)
    elif kind == "strobe":
        depth = rng.uniform(0.06, 0.12)
        period = rng.choice((2, 3, 4))
        frames = [
            ImageEnhance.Brightness(f).enhance(1 + depth if (i // (period // 2 or 1)) % 2 else 1)
            for i, f in enumerate(frames)
        ]
    elif kind == "pillarbox":
        frames = [boxed(f, (480, 360)) for f in frames]
    elif kind == "letterbox":
        height = round(640 / rng.choice((2.0, 2.39))) // 2 * 2
        frames = [boxed(f, (640, height)) for f in frames]
    elif kind == "cut":
        other = regrade(art(rng.choice([s for s in SCENES if s != subject]), rng), rng)
        at = round(rng.uniform(1.5, 2.5) * FPS)
        frames[at:] = list(camera(other, frames_n - at, rng))
    elif kind == "noise":
        frames = [
            Image.frombytes("RGB", SIZE, rng.randbytes(SIZE[0] * SIZE[1] * 3))
            for _ in range(frames_n)
        ]
    elif kind == "blank":
        tone = tuple(rng.randint(60, 220) for _ in range(3))
        frames = [
            ImageChops.add(Image.new("RGB", SIZE, tone), Image.effect_noise(SIZE, 3).convert("RGB"))
            for _ in range(frames_n)
        ]
    elif kind == "wrong_aspect":
        size = (SIZE[1], SIZE[0])
        frames = [f.resize(size) for f in frames]
    with_audio = kind in ("silence", "clipped") or (kind == "good" and rng.random() < 0.5)
    samples = ambience(duration, rng) if with_audio else None
    if kind == "silence" and samples is not None:
        start = round(rng.uniform(0.5, 1.5) * SAMPLE_RATE)
        length = round(rng.uniform(1.5, 2.5) * SAMPLE_RATE)
        samples[start : start + length] = [0.0] * len(samples[start : start + length])
    if kind == "clipped" and samples is not None:
        gain = 10 ** (rng.uniform(24, 34) / 20)
        samples = [max(-1.0, min(1.0, v * gain)) for v in samples]
    return Clip(
        kind=kind,
        video=encode(iter(frames), size, samples),
        subject=subject,
        expected_duration_s=4.0,
        expect_audio=True if with_audio else None,
    )


# --- Measuring ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Detector:
    """How to read one detector's value from a report, which way is bad, and its setting."""

    name: str
    read: Callable[[object], float | None]
    bad_is_high: bool
    faults: tuple[str, ...]
    setting: str
    # Turn the separating value into the setting's value.
    to_setting: Callable[[float], float] = lambda value: value
    # Settings chosen for earlier detectors that this one must be measured with.
    measure_with: tuple[str, ...] = ()
    # Why the threshold is a product rule rather than a measured one, when it is.
    rule: str = ""


def worst(check: str, pick: Callable = max) -> Callable[[object], float | None]:
    def read(report) -> float | None:
        values = [f.value for f in report.findings if f.check == check and f.value is not None]
        return pick(values) if values else None

    return read


def measured(key: str) -> Callable[[object], float | None]:
    return lambda report: report.measured.get(key)


DETECTORS = (
    Detector(
        "black: longest black s",
        worst("black"),
        True,
        ("black_start", "black_end", "black_middle"),
        "PIPELINE_QC_BLACK_MIN_S",
    ),
    Detector(
        "frozen: longest still s", worst("frozen"), True, ("frozen",), "PIPELINE_QC_FREEZE_MIN_S"
    ),
    Detector(
        "flicker: largest luma step",
        measured("largest_luma_step"),
        True,
        ("strobe",),
        "PIPELINE_QC_FLICKER_SWING",
    ),
    Detector(
        "flicker: brightness reversals per s",
        worst("flicker"),
        True,
        ("strobe",),
        "PIPELINE_QC_FLICKER_MAX_REVERSALS",
        math.floor,
        measure_with=("PIPELINE_QC_FLICKER_SWING",),
    ),
    Detector("cut: largest scene score", worst("cut"), True, ("cut",), "PIPELINE_QC_CUT_SCORE"),
    Detector(
        "letterbox: share of frame in bars",
        worst("letterbox"),
        True,
        ("pillarbox", "letterbox"),
        "PIPELINE_QC_MAX_BORDER_SHARE",
    ),
    Detector(
        "blank: least spatial detail",
        worst("blank", min),
        False,
        ("blank",),
        "PIPELINE_QC_MIN_DETAIL",
    ),
    Detector(
        "noise: most change per unit of detail",
        worst("noise"),
        True,
        ("noise",),
        "PIPELINE_QC_MAX_CHANGE_RATIO",
    ),
    Detector(
        "duration: error s",
        lambda report: abs(report.duration_s - 4.0),
        True,
        ("short",),
        "PIPELINE_DURATION_TOLERANCE_S",
        rule="the frame count is exact; the tolerance is the product's, shared with briefs.checks",
    ),
    Detector(
        "identity: similarity",
        worst("identity", min),
        False,
        ("other_character",),
        "PIPELINE_QC_MIN_IDENTITY",
    ),
    Detector(
        "palette: stray",
        worst("palette"),
        True,
        ("off_palette",),
        "PIPELINE_QC_MAX_PALETTE_STRAY",
    ),
    Detector(
        "silence: longest silent s",
        worst("silence"),
        True,
        ("silence",),
        "PIPELINE_QC_SILENCE_MIN_S",
    ),
    Detector(
        "clipping: peak dBFS",
        worst("clipping"),
        True,
        ("clipped",),
        "PIPELINE_QC_MAX_PEAK_DB",
    ),
)

# Measure with every length limit near zero, so a detector reports each stretch it sees.
MEASURE_OVERRIDES = {
    "PIPELINE_QC_BLACK_MIN_S": 0.0,
    "PIPELINE_QC_FREEZE_MIN_S": 0.2,
    "PIPELINE_QC_SILENCE_MIN_S": 0.2,
}


def run_qc(clips: list[Clip], references: dict[str, str], palette: tuple[str, ...]) -> list:
    from briefs.qc import qc_clip

    return [
        qc_clip(
            clip.video,
            expected_duration_s=clip.expected_duration_s,
            aspect_ratio="16:9",
            expect_audio=clip.expect_audio,
            reference_images=[references[clip.subject]],
            palette=palette,
        )
        for clip in clips
    ]


def spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    quartiles = (
        statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
    )
    return (
        f"min {min(values):.4g}  p25 {quartiles[0]:.4g}  median {statistics.median(values):.4g}"
        f"  p75 {quartiles[2]:.4g}  max {max(values):.4g}  (n={len(values)})"
    )


def choose(detector: Detector, good: list[float], bad: list[float]) -> tuple[float, bool]:
    """Return the separating value and whether good and bad separate at all."""
    if detector.bad_is_high:
        edge_good, edge_bad = max(good, default=0.0), min(bad, default=math.inf)
        separable = edge_good < edge_bad
    else:
        edge_good, edge_bad = min(good, default=0.0), max(bad, default=-math.inf)
        separable = edge_bad < edge_good
    if separable and math.isfinite(edge_bad):
        return (edge_good + edge_bad) / 2, True
    # Overlap: keep every good clip passing and say how much bad gets through.
    return edge_good, False


def three_figures(value: float, *, away_from_good: bool, bad_is_high: bool) -> float:
    """Round to three significant figures; at an overlap, round so the worst good clip passes."""
    if not value:
        return 0.0
    scale = 10 ** (math.floor(math.log10(abs(value))) - 2)
    if not away_from_good:
        return round(round(value / scale) * scale, 10)
    step = math.ceil if bad_is_high else math.floor
    return round(step(value / scale) * scale, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--good", type=int, default=30)
    parser.add_argument("--per-fault", type=int, default=6)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test import override_settings

    from bench.support import progress
    from retrieval import demo

    faults = sorted(
        {fault for detector in DETECTORS for fault in detector.faults} | {"wrong_aspect"}
    )
    rng = random.Random(args.seed)
    kinds = ["good"] * args.good + [f for f in faults for _ in range(args.per_fault)]
    progress(f"making {len(kinds)} clips (seed {args.seed})")
    clips = [make_clip(kind, random.Random(rng.getrandbits(64))) for kind in kinds]

    with tempfile.TemporaryDirectory(prefix="calibrate-qc-") as folder:
        references = {}
        for name in CHARACTERS + SCENES:
            # The catalog's own drawing (seed 7, as retrieval.demo.seed draws it).
            path = Path(folder) / f"{name}.png"
            art(name, random.Random(7)).save(path)
            references[name] = str(path)
        palette = tuple(demo.IP_DATA["palette"])

        progress("measuring with every length limit near zero")
        with override_settings(**MEASURE_OVERRIDES):
            reports = run_qc(clips, references, palette)
        print(
            f"Clip QC calibration: {args.good} good clips, {len(faults)} fault kinds "
            f"x {args.per_fault}, seed {args.seed}, {FPS} fps, {SIZE[0]}x{SIZE[1]}\n"
        )
        chosen: dict[str, dict] = {}
        for detector in DETECTORS:
            pool, judged = clips, reports
            if detector.measure_with:
                overrides = {
                    name: chosen[name]["measured_threshold"] for name in detector.measure_with
                }
                progress(f"measuring {detector.name} again with {overrides}")
                pool = [c for c in clips if c.kind in ("good", *detector.faults)]
                with override_settings(**MEASURE_OVERRIDES, **overrides):
                    judged = run_qc(pool, references, palette)
            good = [
                v
                for c, r in zip(pool, judged, strict=True)
                if c.kind == "good" and (v := detector.read(r)) is not None
            ]
            bad = [
                v
                for c, r in zip(pool, judged, strict=True)
                if c.kind in detector.faults and (v := detector.read(r)) is not None
            ]
            value, separable = choose(detector, good, bad)
            setting_value = three_figures(
                detector.to_setting(value),
                away_from_good=not separable,
                bad_is_high=detector.bad_is_high,
            )
            shipped = getattr(settings, detector.setting)
            chosen[detector.setting] = {
                "separable": separable,
                "measured_threshold": setting_value,
                "shipped": shipped,
                "rule": detector.rule,
            }
            faults_label = f"bad ({', '.join(detector.faults)})"
            print(f"{detector.name}  [{'high' if detector.bad_is_high else 'low'} is bad]")
            print(f"  {'good':<28} {spread(good)}")
            print(f"  {faults_label:<28} {spread(bad)}")
            verdict = "separates" if separable else "DOES NOT SEPARATE (good clips kept passing)"
            print(f"  {verdict}: threshold {setting_value:g} -> {detector.setting}")
            if detector.rule:
                print(f"  shipped {shipped}, a product rule: {detector.rule}\n")
            elif shipped != setting_value:
                print(f"  SHIPPED {shipped} DIFFERS: set the default to the measured value\n")
            else:
                print(f"  shipped {shipped}\n")

        measured_settings = {
            name: choice["measured_threshold"]
            for name, choice in chosen.items()
            if not choice["rule"]
        }
        progress("judging with the measured thresholds")
        with override_settings(**measured_settings):
            judged_reports = run_qc(clips, references, palette)

    print("Per kind, with the measured thresholds (caught = at least one failed finding):")
    print(f"  {'kind':<16} {'clips':>5} {'caught':>6}  failed checks")
    per_kind: dict[str, dict] = {}
    for kind in ["good", *faults]:
        rows = [r for c, r in zip(clips, judged_reports, strict=True) if c.kind == kind]
        caught = sum(1 for r in rows if not r.passed)
        checks = sorted({f.check for r in rows for f in r.failed})
        per_kind[kind] = {"clips": len(rows), "failed": caught, "checks": checks}
        label = "false positives" if kind == "good" else "caught"
        print(f"  {kind:<16} {len(rows):>5} {caught:>6}  {', '.join(checks) or '-'}  ({label})")
    timings = [r.elapsed_ms for c, r in zip(clips, judged_reports, strict=True) if c.kind == "good"]
    qc_ms = statistics.mean(timings)
    print(
        f"\nqc_ms_per_clip: {qc_ms:.0f} ms mean, {max(timings):.0f} ms max "
        f"(good clips: 4 s, 640x360, {FPS} fps, identity and palette included)"
    )
    summary = {
        "seed": args.seed,
        "good_clips": args.good,
        "bad_clips": len(clips) - args.good,
        "false_positives": per_kind["good"]["failed"],
        "caught": sum(per_kind[k]["failed"] for k in faults),
        "per_kind": {k: {"clips": v["clips"], "failed": v["failed"]} for k, v in per_kind.items()},
        "thresholds": chosen,
        "qc_ms_per_clip": round(qc_ms, 1),
    }
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
