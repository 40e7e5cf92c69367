"""The checks behind /healthz: database with pgvector, broker, workers."""

import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from studio.models import WorkerHeartbeat
from studio.signals import pgvector_version


@dataclass
class Check:
    ok: bool
    detail: dict = field(default_factory=dict)


def check_database() -> Check:
    """Query the database and report the pgvector version it serves."""
    try:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            row = cursor.fetchone()
            offered = pgvector_version(cursor)
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
    except Exception as exc:
        return Check(False, {"error": f"{type(exc).__name__}: {exc}"})
    if row is None:
        return Check(False, {"error": "pgvector is not installed", "available": offered})
    return Check(True, {"vendor": connection.vendor, "pgvector": row[0], "latency_ms": latency_ms})


def check_broker() -> Check:
    """Reach the Celery broker (or, for the folder broker, its folder)."""
    url = settings.CELERY_BROKER_URL
    scheme = url.split("://", 1)[0]
    if scheme == "filesystem":
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        folder.mkdir(parents=True, exist_ok=True)
        ok = folder.is_dir() and _writable(folder)
        return Check(ok, {"transport": scheme, "folder": str(folder)})
    from studio.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:
        return Check(False, {"transport": scheme, "error": f"{type(exc).__name__}: {exc}"})
    return Check(True, {"transport": scheme})


def _writable(folder: Path) -> bool:
    probe = folder / ".healthz"
    try:
        probe.write_text("ok")
        probe.unlink()
    except OSError:
        return False
    return True


def check_workers() -> Check:
    """Report the freshest heartbeat of a running worker; stale or none means down."""
    latest = WorkerHeartbeat.objects.filter(stopped_at__isnull=True).order_by("-seen_at").first()
    if latest is None:
        return Check(False, {"error": "no running worker has reported a heartbeat"})
    age_s = round((timezone.now() - latest.seen_at).total_seconds(), 1)
    stale_after = settings.WORKER_STALE_AFTER_SECONDS
    alive = WorkerHeartbeat.objects.filter(
        stopped_at__isnull=True,
        seen_at__gte=timezone.now() - timezone.timedelta(seconds=stale_after),
    ).count()
    detail = {"last_heartbeat_age_s": age_s, "stale_after_s": stale_after, "alive": alive}
    if not alive:
        detail["error"] = f"last heartbeat {age_s:.0f}s ago (limit {stale_after}s)"
    return Check(alive > 0, detail)


def health_report() -> tuple[bool, dict]:
    """Run every check; return (all ok, report)."""
    database = check_database()
    checks = {
        "database": database,
        "broker": check_broker(),
        "worker": check_workers() if database.ok else Check(False, {"error": "database down"}),
    }
    healthy = all(check.ok for check in checks.values())
    report = {
        "status": "ok" if healthy else "down",
        "checks": {name: {"ok": check.ok, **check.detail} for name, check in checks.items()},
    }
    return healthy, report
