"""Real Celery worker processes for integration tests, pointed at the test database."""

import os
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import anyio
from django.db import connection

from studio.models import WorkerHeartbeat

BASE_DIR = Path(__file__).resolve().parent.parent
ARTIFACTS = BASE_DIR / "test-artifacts"


def current_database_url() -> str:
    """Return a DATABASE_URL for the database this test process is using."""
    db = connection.settings_dict
    host = db["HOST"] or db.get("OPTIONS", {}).get("host", "")
    if host.startswith("/"):
        return f"postgres://{db['USER']}@/{db['NAME']}?host={quote(host)}"
    return f"postgres://{db['USER']}:{quote(db['PASSWORD'] or '')}@{host}:{db['PORT']}/{db['NAME']}"


class WorkerProcess:
    """A `celery worker` subprocess with its own node name and log file."""

    def __init__(self, *, broker_url: str | None = None, env: dict | None = None, concurrency=1):
        self.nodename = f"test-{uuid.uuid4().hex[:8]}@localhost"
        ARTIFACTS.mkdir(exist_ok=True)
        self.log_path = ARTIFACTS / f"worker-{self.nodename.split('@')[0]}.log"
        full_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": current_database_url(),
            **(env or {}),
        }
        if broker_url:
            full_env["CELERY_BROKER_URL"] = broker_url
        command = [
            sys.executable, "-m", "celery", "-A", "studio", "worker",
            "-n", self.nodename, "--concurrency", str(concurrency),
            "--without-mingle", "--without-gossip", "-l", "info",
        ]  # fmt: skip
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, env=full_env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_for_heartbeat(self, timeout: float = 30) -> WorkerHeartbeat:
        """Block until this worker has written its heartbeat row."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            beat = WorkerHeartbeat.objects.filter(hostname=self.nodename).first()
            if beat is not None:
                return beat
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited early; log:\n{self.read_log()}")
            time.sleep(0.2)
        raise AssertionError(f"no heartbeat from {self.nodename}; log:\n{self.read_log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """Send `sig` to the worker's process group member and wait for it to exit."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()

    def kill_children(self) -> None:
        """SIGKILL the worker and its pool children: a crash, not a shutdown."""
        import psutil

        parent = psutil.Process(self.process.pid)
        for child in parent.children(recursive=True):
            child.kill()
        parent.kill()
        self.process.wait(10)
        self.log.close()

    def read_log(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]


def wait_until(predicate, *, timeout: float = 30, interval: float = 0.2, message: str = ""):
    """Poll `predicate` until it returns something truthy; fail with `message` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(message or "condition not met in time")


def run_async(function):
    """Run an async function to completion in its own thread and event loop.

    Playwright's sync API keeps an event loop running in the test thread once a browser test
    has run, so `anyio.run` there would refuse to start.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, function).result()
