"""Benchmark the review board: 500 shots with takes, notes, references and decisions.

Creates its own database on the embedded server (never the dev or test data), migrates it, loads
one brief with --shots shots (each with a rejected earlier take, a current ready take, three
references with rights, notes and a decision) plus a 50-shot brief, then measures through the
real views: the query count of the full board (which must not grow with the shot count), the
server time of the full board, of one decision request and of one bulk decision on 50 takes, and
the size of one card partial. --profile prints where a board request and a decision spend their
time (cProfile on CPU time). Drops the database at the end.

    .venv/bin/python bench/board.py [--shots 500] [--repeat 5] [--profile]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.support import progress, throwaway_database

DB_NAME = "bench_board"
SMALL_BOARD = 50
NOTES_PER_TAKE = 2
REFERENCES = 12
TARGET_BOARD_MS = 100
TARGET_DECISION_MS = 20
TARGET_BULK_MS = 300
TARGET_QUERIES = 15
BULK_TAKES = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shots", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print pyinstrument profiles")
    args = parser.parse_args()
    with (
        throwaway_database(DB_NAME) as socket_dir,
        tempfile.TemporaryDirectory(prefix="bench-board-") as scratch,
    ):
        run(socket_dir, Path(scratch), args.shots, args.repeat, args.profile)


def run(socket_dir: str, scratch: Path, shots: int, repeat: int, profile: bool = False) -> None:
    os.environ["DATABASE_URL"] = f"postgresql://postgres@{quote(socket_dir, safe='')}/{DB_NAME}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["AI_PROVIDER"] = "local"
    os.environ["MEDIA_ROOT"] = str(scratch / "media")
    os.environ["STUDIO_BROKER_DIR"] = str(scratch / "broker")
    import django

    django.setup()
    from django.core.management import call_command

    progress(f"migrating {DB_NAME}")
    call_command("migrate", verbosity=0)
    director, big, small = load(shots)
    report(director, big, small, shots, repeat, profile)


def load(shots: int):
    """Create users, references with rights, and two briefs full of takes, notes and decisions."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from briefs.models import Brief, Shot, Take
    from retrieval.models import IP, Asset, Rights
    from review.models import Decision, Note
    from studio.roles import Role

    users = get_user_model()
    director = users.objects.create(username="bench-director", first_name="Dana")
    director.groups.add(Group.objects.get(name=Role.CREATIVE_DIRECTOR.value))
    producer = users.objects.create(username="bench-producer", first_name="Priya")
    producer.groups.add(Group.objects.get(name=Role.PRODUCER.value))
    ip = IP.objects.create(name="Bench IP", slug="bench-ip", palette=["#0f3d4c", "#f5b942"])
    assets = Asset.objects.bulk_create(
        Asset(
            ip=ip,
            kind=Asset.Kind.STILL,
            title=f"Reference still {n}",
            file=f"bench/{n}.png",
            mime_type="image/png",
            byte_size=1000,
            sha256=f"{n:064x}",
            width=64,
            height=48,
        )
        for n in range(REFERENCES)
    )
    Rights.objects.bulk_create(
        Rights(
            asset=a,
            holder="Studio",
            licence="Owned",
            worldwide=n % 3 != 0,
            territories=[] if n % 3 else ["GB", "FR"],
            valid_from=date(2020, 1, 1),
        )
        for n, a in enumerate(assets)
    )
    briefs = [
        make_brief(ip, producer, director, assets, title, count)
        for title, count in (("Bench board", shots), ("Bench small board", SMALL_BOARD))
    ]
    progress(
        f"loaded {Shot.objects.count():,} shots, {Take.objects.count():,} takes, "
        f"{Note.objects.count():,} notes, {Decision.objects.count():,} decisions"
    )
    assert Brief.objects.count() == 2
    return director, *briefs


def make_brief(ip, producer, director, assets, title: str, count: int):
    from briefs.models import Brief, Shot, Take
    from review.models import Decision, Note

    progress(f"creating {title!r} with {count} shots")
    brief = Brief.objects.create(
        ip=ip,
        producer=producer,
        title=title,
        beat="The keeper walks the pier at dusk.",
        shot_count=24,
        aspect_ratio="16:9",
        seconds_per_shot=4,
        territory="GB",
        release_date=date.today() + timedelta(days=60),
        status=Brief.Status.IN_REVIEW,
        checklist=["On-model character", "Palette", "No text artefacts"],
    )
    shots = Shot.objects.bulk_create(
        Shot(
            brief=brief,
            order=n,
            prompt=f"Shot {n}: the pier at dusk, lanterns swaying.",
            camera="slow push-in",
            duration_s=4,
            status=Shot.Status.READY,
        )
        for n in range(1, count + 1)
    )
    checks = [
        {"name": "not_blank", "passed": True, "value": 0.41, "limit": ">= 0.05", "reason": ""},
        {"name": "duration", "passed": True, "value": 4.0, "limit": "4 s", "reason": ""},
        {"name": "palette", "passed": True, "value": 12.5, "limit": "<= 20", "reason": ""},
    ]
    takes = []
    for shot in shots:
        for number, status in ((1, Take.Status.REJECTED), (2, Take.Status.READY)):
            takes.append(
                Take(
                    shot=shot,
                    number=number,
                    prompt=shot.prompt,
                    status=status,
                    is_current=number == 2,
                    media=f"bench/{shot.pk}-{number}.mp4",
                    poster=f"bench/{shot.pk}-{number}.png",
                    duration_s=4.0,
                    width=640,
                    height=360,
                    model="local-veo",
                    provider="LocalGenerator",
                    seed=number,
                    config={"prompt": shot.prompt, "duration_s": 4, "aspect_ratio": "16:9"},
                    checks=checks,
                    checks_passed=True,
                    confidence=0.82,
                    version=2 if number == 1 else 1,
                )
            )
    takes = Take.objects.bulk_create(takes)
    through = Take.references.through
    through.objects.bulk_create(
        through(take_id=take.pk, asset_id=assets[(take.pk + k) % len(assets)].pk)
        for take in takes
        for k in range(3)
    )
    Note.objects.bulk_create(
        Note(
            take=take,
            user=director,
            body=f"Note {k} on take {take.number}",
            timecode_start=0.5 + k,
            rect={"x": 0.1, "y": 0.1, "w": 0.3, "h": 0.2} if k else None,
        )
        for take in takes
        for k in range(NOTES_PER_TAKE)
    )
    Decision.objects.bulk_create(
        Decision(
            take=take,
            user=director,
            verdict="rejected",
            reason="artefacts",
            reason_text="Flicker on the lantern",
            take_version=1,
        )
        for take in takes
        if take.number == 1
    )
    return brief


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - start) * 1000


def profiled(label: str, fn, repeat: int = 3) -> None:
    """Print where fn() spends CPU time (cProfile on process time, so a busy machine's waits
    do not show up as work), by own time and by cumulative time, on stderr."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile(time.process_time)
    for _ in range(repeat):
        profiler.runcall(fn)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(18)
    stats.sort_stats("cumulative").print_stats(30)
    print(f"--- CPU profile: {label} (x{repeat})\n{out.getvalue()}", file=sys.stderr)


def report(director, big, small, shots: int, repeat: int, profile: bool = False) -> None:
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from briefs.models import Take
    from review.models import Decision

    client = Client(SERVER_NAME="localhost")
    client.force_login(director)

    def board_figures(brief):
        url = reverse("review:board", args=[brief.pk])
        client.get(url)  # warm caches: templates, permissions, connection
        executed = []
        with connection.execute_wrapper(
            lambda run, sql, *rest: executed.append(sql) or run(sql, *rest)
        ):
            response = client.get(url)
        assert response.status_code == 200, response.status_code
        cold = []
        for _ in range(repeat):  # every card rendered afresh (as after each card changed)
            caches["fragments"].clear()
            cold.append(timed(lambda: client.get(url))[1])
        times = [timed(lambda: client.get(url))[1] for _ in range(repeat)]
        return (
            len(executed),
            statistics.median(times),
            len(response.content),
            statistics.median(cold),
        )

    small_queries, small_ms, _, _ = board_figures(small)
    board_queries, board_ms, board_bytes, board_cold_ms = board_figures(big)

    takes = list(
        Take.objects.filter(shot__brief=big, is_current=True).order_by("shot__order")[: repeat + 1]
    )
    decision_times = []
    for index, take in enumerate(takes):
        url = reverse("review:decide", args=[take.pk])
        data = {"verdict": "approved", "version": take.version, "checklist": ["Palette"]}
        response, ms = timed(lambda u=url, d=data: client.post(u, d, HTTP_HX_REQUEST="true"))
        assert response.status_code == 200, response.status_code
        if index:  # the first request warms the decision path
            decision_times.append(ms)
    decision_ms = statistics.median(decision_times)

    # A bulk decision: 50 further current takes of the big board, each at the version shown.
    bulk_takes = list(
        Take.objects.filter(shot__brief=big, is_current=True)
        .order_by("shot__order")[repeat + 1 : repeat + 1 + 2 * BULK_TAKES]
        .values_list("pk", "version")
    )
    bulk_url = reverse("review:bulk_decide", args=[big.pk])

    def bulk(batch):
        data = {
            "verdict": "rejected",
            "reason": "artefacts",
            "reason_text": "Flicker",
            "selected": [f"{pk}:{version}" for pk, version in batch],
        }
        return client.post(bulk_url, data, HTTP_HX_REQUEST="true")

    bulk(bulk_takes[BULK_TAKES:])  # warm the bulk path on other takes
    response, bulk_ms = timed(lambda: bulk(bulk_takes[:BULK_TAKES]))
    assert response.status_code == 200, response.status_code
    bulk_applied = Decision.objects.filter(
        take_id__in=[pk for pk, _ in bulk_takes[:BULK_TAKES]], applied=True, reason_text="Flicker"
    ).count()
    assert bulk_applied == BULK_TAKES, bulk_applied

    if profile:
        url = reverse("review:board", args=[big.pk])
        profiled(f"board of {shots} shots", lambda: client.get(url))
        take = Take.objects.filter(shot__brief=big, is_current=True).order_by("-shot__order")[0]
        decide_url = reverse("review:decide", args=[take.pk])
        data = {"verdict": "approved", "version": take.version, "checklist": ["Palette"]}
        profiled("one decision", lambda: client.post(decide_url, data, HTTP_HX_REQUEST="true"))

    card = client.get(reverse("review:shot_card", args=[takes[-1].shot_id]), HTTP_HX_REQUEST="true")
    card_bytes = len(card.content)

    rows = [
        ("shots on the board", f"{shots}", ""),
        (f"board queries ({SMALL_BOARD} shots)", f"{small_queries}", f"<= {TARGET_QUERIES}"),
        (f"board queries ({shots} shots)", f"{board_queries}", f"<= {TARGET_QUERIES}"),
        (f"board server time ({SMALL_BOARD} shots)", f"{small_ms:.1f} ms", ""),
        (f"board server time ({shots} shots)", f"{board_ms:.1f} ms", f"<= {TARGET_BOARD_MS} ms"),
        (f"board, every card rendered afresh ({shots})", f"{board_cold_ms:.1f} ms", ""),
        ("board page size", f"{board_bytes / 1024:.0f} KiB", ""),
        ("one decision request (htmx)", f"{decision_ms:.1f} ms", f"<= {TARGET_DECISION_MS} ms"),
        (f"bulk decision on {BULK_TAKES} takes", f"{bulk_ms:.1f} ms", f"<= {TARGET_BULK_MS} ms"),
        ("card partial", f"{card_bytes:,} bytes", ""),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>14}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>14}  {target}")
    missed = [
        f"{name} {value} > {limit}"
        for name, value, limit in (
            ("board_ms", board_ms, TARGET_BOARD_MS),
            ("board_cold_ms", board_cold_ms, TARGET_BOARD_MS),
            ("decision_ms", decision_ms, TARGET_DECISION_MS),
            ("bulk_ms", bulk_ms, TARGET_BULK_MS),
            ("board_queries", board_queries, TARGET_QUERIES),
        )
        if value > limit
    ]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("targets missed: " + ("; ".join(missed) if missed else "none"))
    print(
        json.dumps(
            {
                "shots": shots,
                "board_queries": board_queries,
                "board_queries_small": small_queries,
                "board_ms": round(board_ms, 1),
                "board_cold_ms": round(board_cold_ms, 1),
                "decision_ms": round(decision_ms, 1),
                "bulk_ms": round(bulk_ms, 1),
                "card_bytes": card_bytes,
                "board_bytes": board_bytes,
                "load_average": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
