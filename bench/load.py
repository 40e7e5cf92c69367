"""Benchmark the review board under real HTTP load, served as in production.

Creates its own database on the embedded server (never the dev or test data), migrates it and
loads four briefs of 100 shots in review (each shot with a ready current take) plus five briefs
still generating. Then it serves the app the way production does (uvicorn running
`studio.asgi:application` with several worker processes, DEBUG off, the database named by
DATABASE_URL) and drives it over loopback HTTP with Locust, headless, for --seconds:

- 20 creative directors (five per board) poll their board, reload it, open cards, add notes and
  decide, each decision on the take version their card showed;
- 5 producers watch a live brief page and its 2-second poll;
- 5 API clients list briefs with personal API tokens, within the token rate limit.

Afterwards it checks the decisions against the database: every decision a client saw accepted
(200) must exist exactly once as an applied decision, and every 409 must be a real conflict
(another applied decision on the same take version, or the take moved on). Drops the database.

    .venv/bin/python bench/load.py [--seconds 60] [--web-workers 4]
"""

import argparse
import csv
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.support import ROOT, progress, throwaway_database

DB_NAME = "bench_load"
PASSWORD = "bench-load-password-1"
DIRECTORS, PRODUCERS, API_CLIENTS = 20, 5, 5
BOARDS, SHOTS_PER_BOARD = 4, 100
TARGETS = {"board": 250.0, "card": 250.0, "poll": 100.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=0, help="0: any free loopback port")
    args = parser.parse_args()
    with (
        throwaway_database(DB_NAME) as socket_dir,
        tempfile.TemporaryDirectory(prefix="bench-load-") as scratch,
    ):
        run(socket_dir, Path(scratch), args)


def environment(socket_dir: str, scratch: Path) -> dict[str, str]:
    """The served app's settings: external database, DEBUG off, scratch media and broker."""
    return {
        **os.environ,
        "DATABASE_URL": f"postgresql://postgres@{quote(socket_dir, safe='')}/{DB_NAME}",
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-load-not-a-secret-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "AI_PROVIDER": "local",
        "MEDIA_ROOT": str(scratch / "media"),
        "STUDIO_BROKER_DIR": str(scratch / "broker"),
        "LOG_LEVEL": "WARNING",
        # ASGI needs a connection pool (see DATABASE_POOL_SIZE in studio/settings.py).
        "DATABASE_POOL_SIZE": "8",
    }


def run(socket_dir: str, scratch: Path, args) -> None:
    env = environment(socket_dir, scratch)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    progress(f"migrating {DB_NAME}")
    call_command("migrate", verbosity=0)
    scenario = load()
    scenario_file, outcomes_file = scratch / "scenario.json", scratch / "outcomes.jsonl"
    scenario_file.write_text(json.dumps(scenario))
    outcomes_file.write_text("")
    from django.db import connections

    connections.close_all()
    server = serve(env, args)
    try:
        stats = drive(env, args, scenario_file, outcomes_file, scratch)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    checks = verify(outcomes_file)
    report(args, stats, checks)


def load() -> dict:
    """Create users with roles, API tokens and the briefs; return what the load users need."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from briefs.models import Brief, Shot, Take
    from retrieval.models import IP
    from studio.roles import Role

    users = get_user_model()

    def user(username: str, role) -> object:
        person = users.objects.create_user(
            username=username, password=PASSWORD, first_name=username.title()
        )
        person.groups.add(Group.objects.get(name=role.value))
        return person

    directors = [user(f"director{n}", Role.CREATIVE_DIRECTOR) for n in range(DIRECTORS)]
    producers = [user(f"producer{n}", Role.PRODUCER) for n in range(PRODUCERS)]
    ip = IP.objects.create(name="Load IP", slug="load-ip", palette=["#0f3d4c", "#f5b942"])

    def brief(producer, title: str, status: str) -> Brief:
        return Brief.objects.create(
            ip=ip,
            producer=producer,
            title=title,
            beat="The keeper walks the pier at dusk.",
            tone="calm",
            shot_count=24,  # the brief form's ceiling; the board itself holds 100 shots
            aspect_ratio="16:9",
            seconds_per_shot=4,
            territory="GB",
            release_date=date.today() + timedelta(days=60),
            status=status,
            checklist=["On-model character", "Palette"],
        )

    boards = [brief(producers[n % PRODUCERS], f"Board {n}", "in_review") for n in range(BOARDS)]
    live = [brief(producers[n], f"Live {n}", "generating") for n in range(PRODUCERS)]
    progress(f"creating {BOARDS} boards of {SHOTS_PER_BOARD} shots and {PRODUCERS} live briefs")
    for board in boards + live:
        generating = board in live
        shots = Shot.objects.bulk_create(
            Shot(
                brief=board,
                order=n,
                prompt=f"Shot {n}: the pier at dusk, lanterns swaying.",
                camera="slow push-in",
                duration_s=4,
                status="generating" if generating and n > 6 else "ready",
            )
            for n in range(1, (12 if generating else SHOTS_PER_BOARD) + 1)
        )
        Take.objects.bulk_create(
            Take(
                shot=shot,
                number=1,
                prompt=shot.prompt,
                status=Take.Status.READY if shot.status == "ready" else Take.Status.GENERATING,
                is_current=True,
                media=f"bench/{shot.pk}.mp4",
                poster=f"bench/{shot.pk}.png",
                duration_s=4.0,
                width=640,
                height=360,
                model="local-veo",
                provider="LocalGenerator",
                seed=1,
                config={"prompt": shot.prompt, "duration_s": 4, "aspect_ratio": "16:9"},
                checks=[{"name": "duration", "passed": True, "value": 4.0, "limit": "4 s"}],
                checks_passed=True,
                confidence=0.8,
            )
            for shot in shots
        )
    # Tokens live in studio.tokens now and move to integrations.tokens: use whichever exists.
    tokens = _module("integrations.tokens", "studio.tokens")
    api_tokens = [
        tokens.token_create(user=directors[n], name=f"load client {n}")[1]
        for n in range(API_CLIENTS)
    ]
    return {
        "password": PASSWORD,
        "sessions": {person.username: session_for(person) for person in directors + producers},
        "directors": DIRECTORS,
        "producers": PRODUCERS,
        "api_clients": API_CLIENTS,
        "director_usernames": [d.username for d in directors],
        "producer_usernames": [p.username for p in producers],
        "board_briefs": [b.pk for b in boards],
        "live_briefs": [b.pk for b in live],
        "api_tokens": api_tokens,
    }


def session_for(person) -> str:
    """Return the key of a signed-in session for `person`, as a login would have made it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = importlib.import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(person.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = person.get_session_auth_hash()
    store.create()
    return store.session_key


def _module(*names: str):
    for name in names:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError:
            continue
    raise ModuleNotFoundError(f"none of {names}")


def serve(env: dict, args) -> subprocess.Popen:
    """Start uvicorn with several workers and wait until it answers HTTP."""
    if not args.port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]
    command = [
        str(ROOT / ".venv" / "bin" / "uvicorn"),
        "studio.asgi:application",
        "--host=127.0.0.1",
        f"--port={args.port}",
        f"--workers={args.web_workers}",
        "--no-access-log",
        "--log-level=warning",
    ]
    progress(f"serving: {' '.join(command[1:])}")
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=2):
                return server
        except urllib.error.HTTPError:
            return server  # it answers (503: no Celery worker runs here, which is expected)
        except OSError:
            if server.poll() is not None:  # e.g. the port was taken
                raise RuntimeError("uvicorn exited") from None
            time.sleep(0.5)
    server.kill()
    raise RuntimeError("uvicorn did not answer /healthz within 60 s")


def drive(env: dict, args, scenario_file: Path, outcomes_file: Path, scratch: Path) -> dict:
    """Run Locust headless against the server; return its per-request-kind stats rows."""
    users = DIRECTORS + PRODUCERS + API_CLIENTS
    prefix = scratch / "locust"
    command = [
        str(ROOT / ".venv" / "bin" / "locust"),
        "-f",
        str(ROOT / "bench" / "load_users.py"),
        "--headless",
        f"--users={users}",
        f"--spawn-rate={users}",
        f"--run-time={args.seconds}s",
        f"--host=http://127.0.0.1:{args.port}",
        f"--csv={prefix}",
        "--only-summary",
        "--loglevel=WARNING",
    ]
    progress(f"driving {users} users for {args.seconds} s with Locust")
    load_before = os.getloadavg()[0]
    locust_env = {**env, "LOAD_SCENARIO": str(scenario_file), "LOAD_OUTCOMES": str(outcomes_file)}
    finished = subprocess.run(
        command, cwd=ROOT, env=locust_env, capture_output=True, text=True, check=False
    )
    if finished.returncode not in (0, 1):  # 1: some requests failed, still a result
        print(finished.stdout[-3000:], finished.stderr[-3000:], file=sys.stderr)
        raise RuntimeError(f"locust exited with {finished.returncode}")
    rows = {}
    with open(f"{prefix}_stats.csv") as stats:
        for row in csv.DictReader(stats):
            rows[row["Name"]] = row
    exceptions = Path(f"{prefix}_exceptions.csv")
    exception_lines = exceptions.read_text().splitlines()[1:] if exceptions.exists() else []
    failures = Path(f"{prefix}_failures.csv")
    failure_lines = failures.read_text().splitlines()[1:] if failures.exists() else []
    return {
        "rows": rows,
        "exceptions": len(exception_lines),
        "failure_lines": failure_lines,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def verify(outcomes_file: Path) -> dict:
    """Check every decision a client saw against the database."""
    from django.db import connections

    from briefs.models import Take
    from review.models import Decision

    connections.close_all()
    outcomes = [json.loads(line) for line in outcomes_file.read_text().splitlines() if line]
    statuses = Counter(o["status"] for o in outcomes)
    rows = Counter(
        Decision.objects.filter(reason_text__startswith="load-").values_list(
            "reason_text", "applied"
        )
    )
    applied = {token for (token, is_applied), n in rows.items() if is_applied}
    lost = duplicate = false_conflicts = 0
    for outcome in outcomes:
        token = outcome["token"]
        copies = rows[(token, True)] + rows[(token, False)]
        if outcome["status"] == 200:
            lost += rows[(token, True)] == 0
            duplicate += copies > 1
        elif outcome["status"] == 409:
            duplicate += copies > 1
            winner = (
                Decision.objects.filter(
                    take_id=outcome["take"], take_version=outcome["version"], applied=True
                )
                .exclude(reason_text=token)
                .exists()
            )
            moved = Take.objects.get(pk=outcome["take"]).version != outcome["version"]
            false_conflicts += rows[(token, False)] != 1 or not (winner or moved)
    seen = {o["token"] for o in outcomes}
    return {
        "decisions_sent": len(outcomes),
        "accepted": statuses[200],
        "conflicts": statuses[409],
        "other_statuses": {k: v for k, v in statuses.items() if k not in (200, 409)},
        "lost_decisions": lost,
        "duplicate_decisions": duplicate,
        "false_conflicts": false_conflicts,
        "applied_unseen": len(applied - seen),
    }


def report(args, stats: dict, checks: dict) -> None:
    rows = stats["rows"]

    def figure(name: str, column: str) -> float:
        row = rows.get(name)
        return float(row[column]) if row and row[column] not in ("", "N/A") else 0.0

    kinds = [n for n in rows if n != "Aggregated"]
    print(
        f"{args.seconds} s, {DIRECTORS} directors on {BOARDS} boards of {SHOTS_PER_BOARD} shots, "
        f"{PRODUCERS} producers, {API_CLIENTS} API clients; uvicorn x{args.web_workers}; "
        f"load average {stats['load_before']:.1f} before, {stats['load_after']:.1f} after"
    )
    print(
        f"{'request':<12} {'count':>6} {'fails':>5} {'rps':>6} {'p50':>5} {'p95':>5} {'p99':>5} ms"
    )
    for name in [*sorted(kinds), "Aggregated"]:
        row = rows[name]
        print(
            f"{name:<14} {row['Request Count']:>6} {row['Failure Count']:>5} "
            f"{float(row['Requests/s']):>6.1f} {row['50%']:>5} {row['95%']:>5} {row['99%']:>5}"
        )
    errors = int(figure("Aggregated", "Failure Count")) + stats["exceptions"]
    for line in stats["failure_lines"][:10]:
        print(f"failure: {line}")
    print(
        f"decisions: {checks['decisions_sent']} sent, {checks['accepted']} accepted, "
        f"{checks['conflicts']} conflicts (409), other {checks['other_statuses']}; "
        f"lost {checks['lost_decisions']}, doubled {checks['duplicate_decisions']}, "
        f"409s without a real conflict {checks['false_conflicts']}, "
        f"applied but never seen by a client {checks['applied_unseen']}"
    )
    figures = {
        "rps": round(figure("Aggregated", "Requests/s"), 1),
        "p95_ms_board": figure("board", "95%"),
        "p95_ms_board_first_load": figure("board, first load", "95%"),
        "p95_ms_card": figure("card", "95%"),
        "p95_ms_poll": figure("poll 204", "95%"),
        "p95_ms_poll_changed": figure("poll 200", "95%"),
        "p95_ms_decide": figure("decide", "95%"),
        "p95_ms_note": figure("note", "95%"),
        "p95_ms_live_poll": figure("live poll 204", "95%"),
        "p95_ms_api": figure("api briefs", "95%"),
        "errors": errors,
        "lost_decisions": checks["lost_decisions"],
        "duplicate_decisions": checks["duplicate_decisions"],
        "false_conflicts": checks["false_conflicts"],
        "decisions": checks["accepted"],
        "conflicts": checks["conflicts"],
        "load_average": round(stats["load_after"], 2),
    }
    missed = [
        f"p95 {kind} {figures[f'p95_ms_{kind}']} > {limit} ms"
        for kind, limit in TARGETS.items()
        if figures[f"p95_ms_{kind}"] > limit
    ]
    for key in ("errors", "lost_decisions", "duplicate_decisions", "false_conflicts"):
        if figures[key]:
            missed.append(f"{key} {figures[key]}")
    print("targets missed: " + ("; ".join(missed) if missed else "none"))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
