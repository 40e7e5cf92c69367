"""The core's own rows: worker heartbeats and rate windows (integrations' models live there)."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """The last sign of life from one Celery worker process, written by the worker itself."""

    hostname = models.CharField(max_length=255, unique=True)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()
    last_ping = models.CharField(max_length=64, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["-seen_at"], name="heartbeat_latest_idx")]

    def __str__(self) -> str:
        return f"{self.hostname} (seen {self.seen_at:%H:%M:%S})"


class RateWindow(models.Model):
    """One rate-limited thing's calls in its current fixed window (studio.ratelimit)."""

    key = models.CharField(max_length=200, unique=True)
    window_start = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.calls} since {self.window_start:%H:%M:%S}"
