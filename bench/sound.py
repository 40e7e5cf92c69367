"""What offline sound adds per shot: the ambience the local generator renders, and the audio checks.

For each shot length it renders the same shot twice with the local generator's renderer
(media.render_clip at the generator's defaults: 640x360, 12 fps), once silent and once with the
mood's ambience (AAC, 48 kHz mono), and runs the clip checks (qc_clip) on each: the silent clip as
a brief with no sound is judged (expect_audio False), the clip with sound as a brief with sound
is judged (expect_audio True: silence, clipping, EBU R128 loudness). Times are this process's CPU
time (all its threads), which other work on a shared machine barely moves; what sound costs a
shot is the median, over the rounds, of each round's difference between the two (the pair runs
back to back). The ambience synthesis is also timed on its own. No database.

    .venv/bin/python bench/sound.py [--rounds 7] [--seconds 4 8]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Sound may add this much CPU time to a 4 s shot's generation plus checks, offline.
TARGET_MS_PER_4S_SHOT = 100.0


def timed(work: Callable[[], object]) -> tuple[float, object]:
    started = time.process_time()
    result = work()
    return (time.process_time() - started) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=int, nargs="+", default=[4, 8])
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    from bench.support import progress
    from briefs.qc import qc_clip
    from studio.ai import media

    rows = []
    for seconds in args.seconds:
        samples: dict[str, list[float]] = {
            "render": [],
            "render_sound": [],
            "ambience": [],
            "qc": [],
            "qc_sound": [],
        }
        failed: list[str] = []
        progress(f"{seconds} s shots: {args.rounds} rounds")
        for round_no in range(args.rounds):
            shot = {
                "prompt": "Wide shot: the lantern keeper on the pier. tense mood.",
                "camera": "slow push-in",
                "duration_s": seconds,
                "aspect_ratio": "16:9",
                "seed": 100 + round_no,
                "palette": ("#1d3557", "#e9c46a", "#f4a261"),
                "reference_images": (),
            }
            ms, silent = timed(functools.partial(media.render_clip, **shot))
            samples["render"].append(ms)
            ms, loud = timed(functools.partial(media.render_clip, **shot, mood="tense"))
            samples["render_sound"].append(ms)
            ms, _ = timed(
                functools.partial(media.ambience, duration_s=seconds, mood="tense", seed=round_no)
            )
            samples["ambience"].append(ms)
            judge = functools.partial(qc_clip, expected_duration_s=seconds, aspect_ratio="16:9")
            ms, _ = timed(functools.partial(judge, silent, expect_audio=False))
            samples["qc"].append(ms)
            ms, report = timed(functools.partial(judge, loud, expect_audio=True))
            samples["qc_sound"].append(ms)
            failed += [f.check for f in report.findings if not f.passed]
        median = {name: statistics.median(values) for name, values in samples.items()}
        extra_render = [
            b - a for a, b in zip(samples["render"], samples["render_sound"], strict=True)
        ]
        extra_qc = [b - a for a, b in zip(samples["qc"], samples["qc_sound"], strict=True)]
        generate_audio = statistics.median(extra_render)
        qc_audio = statistics.median(extra_qc)
        rows.append(
            {
                "seconds": seconds,
                **{f"{name}_ms": round(value, 1) for name, value in median.items()},
                "generate_audio_ms": round(generate_audio, 1),
                "qc_audio_ms": round(qc_audio, 1),
                "audio_ms": round(
                    statistics.median(a + b for a, b in zip(extra_render, extra_qc, strict=True)),
                    1,
                ),
                "failed_checks_with_sound": sorted(set(failed)),
            }
        )

    print(
        f"\nOffline sound per shot (CPU ms, medians of {args.rounds}; 640x360, 12 fps, "
        f"AAC {media._SAMPLE_RATE // 1000} kHz mono ambience)"
    )
    header = (
        f"{'shot':>5} {'render':>8} {'+sound':>8} {'ambience':>9} {'qc':>7} {'qc+sound':>9}"
        f" {'gen audio':>10} {'qc audio':>9} {'audio total':>12}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['seconds']:>4}s {row['render_ms']:>6.0f}ms {row['render_sound_ms']:>6.0f}ms"
            f" {row['ambience_ms']:>7.0f}ms {row['qc_ms']:>5.0f}ms {row['qc_sound_ms']:>7.0f}ms"
            f" {row['generate_audio_ms']:>8.0f}ms {row['qc_audio_ms']:>7.0f}ms"
            f" {row['audio_ms']:>10.0f}ms"
        )
    for row in rows:
        if failed := row["failed_checks_with_sound"]:
            print(f"  {row['seconds']} s clips with sound failed: {', '.join(failed)}")
    four = next((row for row in rows if row["seconds"] == 4), rows[0])
    per_second = four["audio_ms"] / four["seconds"]
    missed = []
    if four["audio_ms"] * 4 / four["seconds"] > TARGET_MS_PER_4S_SHOT:
        missed.append(f"audio_ms_per_shot <= {TARGET_MS_PER_4S_SHOT:.0f} (4 s shot)")
    if any(row["failed_checks_with_sound"] for row in rows):
        missed.append("the rendered ambience passes the audio checks")
    print(
        f"\nSound adds {four['audio_ms']:.0f} ms to a {four['seconds']} s shot "
        f"({per_second:.0f} ms per second of shot): {four['generate_audio_ms']:.0f} ms rendering "
        f"and encoding the ambience, {four['qc_audio_ms']:.0f} ms checking it."
    )
    print(f"targets missed: {', '.join(missed) or 'none'}")
    summary = {
        "audio_ms_per_shot": four["audio_ms"],
        "generate_audio_ms_per_shot": four["generate_audio_ms"],
        "qc_audio_ms_per_shot": four["qc_audio_ms"],
        "shot_seconds": four["seconds"],
        "per_length": {
            str(row["seconds"]): {
                "audio_ms": row["audio_ms"],
                "generate_audio_ms": row["generate_audio_ms"],
                "qc_audio_ms": row["qc_audio_ms"],
                "render_ms": row["render_ms"],
                "qc_ms": row["qc_ms"],
            }
            for row in rows
        },
        "rounds": args.rounds,
    }
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
