"""Writes owned by the studio app: worker heartbeats."""

from datetime import datetime

from django.utils import timezone

from studio.models import WorkerHeartbeat


def worker_heartbeat_beat(*, nodename: str, pid: int, started_at: datetime) -> None:
    """Record that the worker `nodename` is alive now."""
    WorkerHeartbeat.objects.update_or_create(
        hostname=nodename,
        defaults={
            "pid": pid,
            "started_at": started_at,
            "seen_at": timezone.now(),
            "stopped_at": None,
        },
    )


def worker_heartbeat_stop(*, nodename: str) -> None:
    """Record that the worker `nodename` shut down cleanly."""
    WorkerHeartbeat.objects.filter(hostname=nodename).update(stopped_at=timezone.now())


def worker_record_ping(*, nodename: str, pid: int, token: str) -> None:
    """Store a ping token on the worker's row (a ping is a sign of life too)."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        hostname=nodename,
        defaults={"last_ping": token, "seen_at": now, "stopped_at": None},
        create_defaults={"last_ping": token, "seen_at": now, "pid": pid, "started_at": now},
    )
