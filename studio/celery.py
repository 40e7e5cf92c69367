"""The Celery application; its configuration is the CELERY_* block of studio/settings.py."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

app = Celery("studio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def create_folder_broker(sender: Celery, **kwargs) -> None:
    """Create the folder broker's folders; kombu expects them to exist."""
    if not sender.conf.broker_url.startswith("filesystem://"):
        return
    options = sender.conf.broker_transport_options
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


def send_after_commit(task_name: str, *args: object, countdown: float | None = None) -> None:
    """Send a task by name once the current transaction commits (at once outside one).

    Writers name the task instead of importing it: tasks import the services they wrap, so
    services that import tasks would close a circle.
    """
    from django.db import transaction

    transaction.on_commit(
        lambda: app.send_task(task_name, args=list(args), countdown=countdown or None)
    )
