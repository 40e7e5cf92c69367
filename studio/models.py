"""The core's own rows: worker heartbeats (the integrations' models live in integrations/)."""

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
