"""What every benchmark shares: a throwaway database on the embedded server, progress lines."""

import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LANTERNFALL_BEATS = (
    "Mira climbs the sea wall with her lantern, then the fog rolls over the boats.",
    "Pip slips between the lantern stalls of the night market.",
    "Old Tobin reads the tide tables by lantern light, then looks out to sea.",
)


def start_server() -> str:
    """Start (or reuse) the embedded PostgreSQL and return its socket directory."""
    from studio.embedded_db import ensure_running

    state_dir = Path(os.environ.get("STUDIO_STATE_DIR", ROOT / ".studio"))
    return ensure_running(state_dir)["HOST"]


def admin_sql(socket_dir: str, *statements: str) -> None:
    """Run statements on the server's maintenance database, outside any transaction."""
    import psycopg

    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres") as conn:
        conn.autocommit = True
        for statement in statements:
            conn.execute(statement)


@contextmanager
def throwaway_database(name: str) -> Iterator[str]:
    """Create database `name` afresh, yield the socket directory, drop it afterwards."""
    socket_dir = start_server()
    admin_sql(socket_dir, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    try:
        yield socket_dir
    finally:
        from django.db import connections

        connections.close_all()
        admin_sql(socket_dir, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        progress("dropped the benchmark database")


def progress(message: str) -> None:
    """Print a timestamped progress line on stderr (stdout keeps the table and JSON)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def make_briefs(
    *, ip, producer, count: int, shots: int, prefix: str, beats: Sequence[str] = LANTERNFALL_BEATS
) -> list[int]:
    """Create `count` queued silent briefs of `shots` shots on the IP; return their ids.

    Silent, so the figures stay comparable with runs before sound existed; bench/sound.py
    measures what sound adds.
    """
    from django.utils import timezone

    from briefs.models import Brief

    return [
        Brief.objects.create(
            ip=ip,
            producer=producer,
            title=f"{prefix} {n + 1}",
            beat=beats[n % len(beats)],
            tone=("mysterious", "playful", "calm")[n % 3],
            shot_count=shots,
            aspect_ratio="16:9",
            seconds_per_shot=4,
            territory="GB",
            release_date=timezone.localdate() + timedelta(days=30),
            sound=Brief.Sound.NONE,
        ).pk
        for n in range(count)
    ]
