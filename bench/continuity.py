"""Calibrate the continuity check: score good and drifted shot pairs, then pick each part's limit.

A pair is two shots of one character, each made here as its own clip (Pillow frames over the
demo catalog's art and a PyAV H.264 encoder, not Studio's renderer). Good pairs keep the
character, palette and light with the variation a consistent sequence has between shots: a
different framing and camera move, a little exposure and balance wobble, grain, compression.
Drifted pairs change the second shot the way video models drift between shots:

  wrong_character  the character painted in another character's colours (a chroma transfer)
  palette_shift    the grade's hues turned by 6-15% of the colour wheel
  day_to_night     the scene darkened to 35-60% and cooled, as if shot at night
  white_balance    warmer or cooler by 10-25% (red against blue), the exposure kept

The ground truth is how each pair was made. Each part (look, palette, light) gets its limit from
a calibration set: half way between the worst good pair and the mildest pair of the drifts
that part is meant to catch, or, where they overlap, the cut with the largest catch rate minus
false-positive rate. Catch and false-positive rates are then measured on a second, fresh set
made from the same seed, with every part judged at once, as the pipeline judges.

    .venv/bin/python bench/continuity.py [--seed 15] [--good 40] [--per-drift 10]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageEnhance, ImageStat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.calibrate_qc import CHARACTERS, FPS, SIZE, art, camera, encode, rotate_hue

DRIFTS = ("wrong_character", "palette_shift", "day_to_night", "white_balance")
# The part each drift is meant to move (a drift may move others too; all are judged at once).
PART_FOR_DRIFT = {
    "wrong_character": "look",
    "palette_shift": "palette",
    "day_to_night": "light",
    "white_balance": "light",
}
PARTS = ("look", "palette", "light")
CLIP_SECONDS = 2


@dataclass(frozen=True)
class Pair:
    """Two shots of one character and how the second was made."""

    kind: str
    character: str
    first: bytes
    second: bytes


# --- Making shots -------------------------------------------------------------------------------
def wobble(image: Image.Image, rng: random.Random) -> Image.Image:
    """Vary exposure, contrast, saturation and balance a little, as shots of one scene do."""
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.88, 1.12))
    image = ImageEnhance.Contrast(image).enhance(rng.uniform(0.92, 1.08))
    image = ImageEnhance.Color(image).enhance(rng.uniform(0.92, 1.08))
    return scale_channels(image, [rng.uniform(0.97, 1.03) for _ in range(3)])


def framing(image: Image.Image, rng: random.Random) -> Image.Image:
    """Frame the picture as a shot might: wide, or closer on some part of it."""
    scale = rng.uniform(0.6, 1.0)
    width, height = image.size
    crop_w, crop_h = width * scale, height * scale
    x, y = rng.uniform(0, width - crop_w), rng.uniform(0, height - crop_h)
    return image.crop((round(x), round(y), round(x + crop_w), round(y + crop_h)))


def scale_channels(image: Image.Image, factors: list[float]) -> Image.Image:
    bands = [
        band.point(lambda v, f=f: max(0, min(255, round(v * f))))
        for band, f in zip(image.split(), factors, strict=True)
    ]
    return Image.merge("RGB", bands)


def chroma_transfer(image: Image.Image, source: Image.Image) -> Image.Image:
    """Give the picture another picture's colours (mean and spread of Cb, Cr), keeping its light."""
    y, cb, cr = image.convert("YCbCr").split()
    _, source_cb, source_cr = source.convert("YCbCr").split()
    moved = []
    for band, target in ((cb, source_cb), (cr, source_cr)):
        mean, spread = ImageStat.Stat(band).mean[0], ImageStat.Stat(band).stddev[0] or 1.0
        t_mean, t_spread = ImageStat.Stat(target).mean[0], ImageStat.Stat(target).stddev[0]
        gain = t_spread / spread
        moved.append(
            band.point(lambda v, g=gain, m=mean, t=t_mean: max(0, min(255, round(t + (v - m) * g))))
        )
    return Image.merge("YCbCr", (y, *moved)).convert("RGB")


def night(image: Image.Image, rng: random.Random) -> Image.Image:
    """Darken and cool the picture, as a night grade of the same scene."""
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.35, 0.6))
    cool = rng.uniform(0.05, 0.15)
    return scale_channels(image, [1 - cool, 1 - cool / 3, 1 + cool])


def white_balance(image: Image.Image, rng: random.Random) -> Image.Image:
    shift = rng.uniform(0.10, 0.25) * rng.choice((-1, 1))
    return scale_channels(image, [1 + shift, 1.0, 1 - shift])


def shot(picture: Image.Image, rng: random.Random) -> bytes:
    """Film one shot of a picture: framed, wobbled, moved, grained and compressed."""
    framed = wobble(framing(picture, rng), rng)
    return encode(camera(framed, CLIP_SECONDS * FPS, rng), SIZE, None)


def make_pair(kind: str, rng: random.Random) -> Pair:
    """Make one good pair or one pair whose second shot drifts as `kind` says."""
    character = rng.choice(CHARACTERS)
    picture = art(character, random.Random(rng.getrandbits(32)))
    second = art(character, random.Random(rng.getrandbits(32)))
    if kind == "wrong_character":
        other = rng.choice([c for c in CHARACTERS if c != character])
        second = chroma_transfer(second, art(other, random.Random(rng.getrandbits(32))))
    elif kind == "palette_shift":
        second = rotate_hue(second, rng.uniform(0.06, 0.15) * rng.choice((-1, 1)) % 1.0)
    elif kind == "day_to_night":
        second = night(second, rng)
    elif kind == "white_balance":
        second = white_balance(second, rng)
    return Pair(kind, character, shot(picture, rng), shot(second, rng))


# --- Measuring ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scored:
    kind: str
    parts: dict[str, float]
    ms_per_shot: float


def score_pairs(pairs: list[Pair], references: dict[str, str]) -> list[Scored]:
    """Measure each shot as the pipeline does, then compare the two: parts and time."""
    from django.conf import settings

    from briefs.qc import continuity

    scored = []
    for pair in pairs:
        started = time.perf_counter()
        looks, strays = [], []
        for video in (pair.first, pair.second):
            keyframes = continuity.sample_keyframes(video, count=settings.CONTINUITY_KEYFRAMES)
            look = continuity.look_of_keyframes(keyframes)
            looks.append(look)
            strays.append(continuity.reference_stray(look, [references[pair.character]]))
        score = continuity.compare(
            looks[0],
            looks[1],
            a_reference=strays[0],
            b_reference=strays[1],
        )
        elapsed_ms = (time.perf_counter() - started) * 1000
        scored.append(Scored(pair.kind, score.parts(), elapsed_ms / 2))
    return scored


def spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    cuts = (
        statistics.quantiles(values, n=20, method="inclusive") if len(values) > 1 else values * 19
    )
    return (
        f"min {min(values):.3f}  p5 {cuts[0]:.3f}  p25 {cuts[4]:.3f}  median "
        f"{statistics.median(values):.3f}  p75 {cuts[14]:.3f}  p95 {cuts[18]:.3f}  "
        f"max {max(values):.3f}  (n={len(values)})"
    )


def choose(good: list[float], bad: list[float]) -> tuple[float, bool]:
    """Return a part's limit and whether good and bad pairs separate.

    Separated: half way between the worst good pair and the mildest bad one. Overlapping: the
    cut that catches the most bad pairs for the fewest good ones (the largest catch rate minus
    false-positive rate; at a tie, the higher cut). A drifting take goes to a person, so a false
    alarm costs a look; a miss costs a shot that does not cut together.
    """
    worst_good, mildest_bad = max(good), min(bad)
    if worst_good < mildest_bad:
        return round((worst_good + mildest_bad) / 2, 3), True
    values = sorted(set(good) | set(bad))
    cuts = [(low + high) / 2 for low, high in itertools.pairwise(values)]

    def gain(cut: float) -> tuple[float, float]:
        caught = sum(1 for v in bad if v > cut) / len(bad)
        alarms = sum(1 for v in good if v > cut) / len(good)
        return caught - alarms, cut

    return round(max(cuts, key=gain), 3), False


def make_set(label: str, rng: random.Random, good: int, per_drift: int) -> list[Pair]:
    from bench.support import progress

    kinds = ["good"] * good + [kind for kind in DRIFTS for _ in range(per_drift)]
    progress(f"making {len(kinds)} {label} pairs ({2 * len(kinds)} shots)")
    return [make_pair(kind, random.Random(rng.getrandbits(64))) for kind in kinds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--good", type=int, default=40)
    parser.add_argument("--per-drift", type=int, default=10)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import tempfile

    import django

    django.setup()
    from django.conf import settings

    from bench.support import progress

    rng = random.Random(args.seed)
    calibration = make_set("calibration", rng, args.good, args.per_drift)
    held_out = make_set("held-out", rng, args.good, args.per_drift)

    with tempfile.TemporaryDirectory(prefix="continuity-") as folder:
        references = {}
        for name in CHARACTERS:
            # The catalog's own drawing (seed 7, as retrieval.demo.seed draws it).
            path = Path(folder) / f"{name}.png"
            art(name, random.Random(7)).save(path)
            references[name] = str(path)
        progress("scoring the calibration pairs")
        calibrated = score_pairs(calibration, references)
        progress("scoring the held-out pairs")
        tested = score_pairs(held_out, references)

    print(
        f"Continuity calibration: seed {args.seed}; {args.good} good pairs and {len(DRIFTS)} "
        f"drifts x {args.per_drift} per set; {CLIP_SECONDS} s shots at {SIZE[0]}x{SIZE[1]}, "
        f"{FPS} fps, {settings.CONTINUITY_KEYFRAMES} keyframes each\n"
    )
    limits: dict[str, float] = {}
    print("Calibration set, each part's distance (0 = the same; high is bad):")
    for part in PARTS:
        good = [s.parts[part] for s in calibrated if s.kind == "good"]
        drifts = [d for d, p in PART_FOR_DRIFT.items() if p == part]
        bad = [s.parts[part] for s in calibrated if s.kind in drifts]
        limit, separable = choose(good, bad)
        limits[part] = limit
        print(f"{part}")
        print(f"  {'good':<32} {spread(good)}")
        print(f"  {'bad (' + ', '.join(drifts) + ')':<32} {spread(bad)}")
        for drift in DRIFTS:
            if drift not in drifts:
                others = [s.parts[part] for s in calibrated if s.kind == drift]
                print(f"  {'  also ' + drift:<32} {spread(others)}")
        verdict = "separates" if separable else "OVERLAPS (limit: most caught for fewest alarms)"
        setting = f"CONTINUITY_MAX_{part.upper()}_DRIFT"
        shipped = getattr(settings, setting)
        note = "" if shipped == limit else f"  SHIPPED {shipped} DIFFERS: set the default"
        print(f"  {verdict}: limit {limit} -> {setting}{note}\n")

    def drifted(scored: Scored) -> list[str]:
        return [part for part in PARTS if scored.parts[part] > limits[part]]

    print("Held-out set, judged with these limits (a pair drifts when any part is beyond its own):")
    print(f"  {'kind':<16} {'pairs':>5} {'flagged':>7}  parts beyond their limits")
    per_kind = {}
    for kind in ("good", *DRIFTS):
        rows = [s for s in tested if s.kind == kind]
        flagged = [s for s in rows if drifted(s)]
        parts = sorted({p for s in flagged for p in drifted(s)})
        per_kind[kind] = {"pairs": len(rows), "flagged": len(flagged)}
        label = "false positives" if kind == "good" else "caught"
        print(
            f"  {kind:<16} {len(rows):>5} {len(flagged):>7}  {', '.join(parts) or '-'}  ({label})"
        )
    bad_rows = [s for s in tested if s.kind != "good"]
    good_rows = [s for s in tested if s.kind == "good"]
    catch_rate = sum(1 for s in bad_rows if drifted(s)) / len(bad_rows)
    false_positive_rate = sum(1 for s in good_rows if drifted(s)) / len(good_rows)
    timings = [s.ms_per_shot for s in calibrated + tested]
    ms_per_shot = statistics.mean(timings)
    print(
        f"\ncatch rate {catch_rate:.1%} of {len(bad_rows)} drifted pairs, false positives "
        f"{false_positive_rate:.1%} of {len(good_rows)} good pairs (held out)"
    )
    print(
        f"continuity_ms_per_shot: {ms_per_shot:.1f} ms mean, {max(timings):.1f} ms max "
        f"(decode and sample {settings.CONTINUITY_KEYFRAMES} keyframes, measure, compare with "
        "the references and the other shot; no database, no file writes)"
    )
    print(
        json.dumps(
            {
                "seed": args.seed,
                "good_pairs": len(good_rows),
                "drifted_pairs": len(bad_rows),
                "continuity_limit": limits,
                "continuity_catch_rate": round(catch_rate, 3),
                "continuity_false_positive_rate": round(false_positive_rate, 3),
                "continuity_ms_per_shot": round(ms_per_shot, 1),
                "per_kind": per_kind,
            }
        )
    )


if __name__ == "__main__":
    main()
