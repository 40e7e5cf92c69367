"""Process-level hooks: the pgvector guard on new connections and the worker heartbeat."""

import logging
import os
import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

logger = logging.getLogger(__name__)

_pgvector_checked = False


def parse_version(text: str) -> tuple[int, ...]:
    """Turn '0.8.6' into (0, 8, 6) for comparison."""
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def pgvector_version(cursor) -> str | None:
    """Return the installed pgvector version, else the one the server offers, else None."""
    cursor.execute(
        "SELECT coalesce(installed_version, default_version) FROM pg_available_extensions"
        " WHERE name = 'vector'"
    )
    row = cursor.fetchone()
    return row[0] if row else None


def require_pgvector(sender, connection, **kwargs) -> None:
    """Refuse to run on a PostgreSQL without pgvector >= MIN_PGVECTOR_VERSION (once per process)."""
    global _pgvector_checked
    if _pgvector_checked or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        version = pgvector_version(cursor)
    minimum = ".".join(map(str, settings.MIN_PGVECTOR_VERSION))
    if version is None:
        raise ImproperlyConfigured(
            "This PostgreSQL server has no pgvector extension; Studio needs pgvector >= "
            f"{minimum}. Unset DATABASE_URL to use the embedded server, or install pgvector."
        )
    if parse_version(version) < settings.MIN_PGVECTOR_VERSION:
        raise ImproperlyConfigured(f"pgvector {version} is too old; Studio needs >= {minimum}.")
    _pgvector_checked = True


class HeartbeatThread(threading.Thread):
    """Write this worker's heartbeat row every WORKER_HEARTBEAT_SECONDS until stopped."""

    def __init__(self, nodename: str) -> None:
        super().__init__(name="studio-heartbeat", daemon=True)
        self.nodename = nodename
        self.stopping = threading.Event()

    def run(self) -> None:
        from django.db import close_old_connections

        from studio.services import worker_heartbeat_beat

        started_at = timezone.now()
        while not self.stopping.is_set():
            try:
                worker_heartbeat_beat(
                    nodename=self.nodename, pid=os.getpid(), started_at=started_at
                )
            except Exception:
                # A database blip must not kill the worker; /healthz shows the stale heartbeat.
                logger.exception("worker heartbeat failed")
                close_old_connections()
            self.stopping.wait(settings.WORKER_HEARTBEAT_SECONDS)


_heartbeat: HeartbeatThread | None = None


def connect_worker_heartbeat() -> None:
    """Start the heartbeat when a Celery worker is ready; mark it stopped on shutdown."""
    from celery.signals import worker_ready, worker_shutdown

    def on_ready(sender, **kwargs) -> None:
        global _heartbeat
        _heartbeat = HeartbeatThread(sender.hostname)
        _heartbeat.start()

    def on_shutdown(sender, **kwargs) -> None:
        from studio.services import worker_heartbeat_stop

        if _heartbeat is not None:
            _heartbeat.stopping.set()
            worker_heartbeat_stop(nodename=_heartbeat.nodename)

    worker_ready.connect(on_ready, weak=False, dispatch_uid="studio.heartbeat.ready")
    worker_shutdown.connect(on_shutdown, weak=False, dispatch_uid="studio.heartbeat.shutdown")
