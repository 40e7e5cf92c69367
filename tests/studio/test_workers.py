"""A real Celery worker consumes real tasks through the default broker and through Redis."""

import shutil
import signal
import socket
import subprocess
import uuid

import pytest
from celery import Celery
from django.urls import reverse

from studio.models import WorkerHeartbeat
from studio.tasks import ping
from tests.factories.users import catalog_admin
from tests.workers import wait_until

pytestmark = pytest.mark.worker


def ping_reached_database(token: str) -> bool:
    return WorkerHeartbeat.objects.filter(last_ping=token).exists()


def test_a_worker_consumes_a_task_through_the_default_folder_broker(start_worker):
    worker = start_worker()
    token = uuid.uuid4().hex
    ping.delay(token)
    wait_until(lambda: ping_reached_database(token), message=worker.read_log())
    assert WorkerHeartbeat.objects.get(last_ping=token).hostname == worker.nodename


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def redis_url(tmp_path):
    """The machine's Redis on 6379, or a private redis-server when none is running."""
    if _port_open(6379):
        yield "redis://127.0.0.1:6379/15"
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "No Redis on 127.0.0.1:6379 and no redis-server binary (./scripts/test installs it)."
        )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    wait_until(lambda: _port_open(port), timeout=10, message="private redis did not start")
    yield f"redis://127.0.0.1:{port}/15"
    server.terminate()
    server.wait(10)


def test_a_worker_consumes_a_task_through_redis(start_worker, redis_url):
    worker = start_worker(broker_url=redis_url)
    token = uuid.uuid4().hex
    producer_app = Celery("studio-test-producer", broker=redis_url)
    producer_app.send_task("studio.ping", args=[token])
    wait_until(lambda: ping_reached_database(token), message=worker.read_log())


def test_healthz_follows_a_worker_up_and_down(start_worker, client):
    client.force_login(catalog_admin())
    assert client.get(reverse("healthz")).status_code == 503
    worker = start_worker()
    assert client.get(reverse("healthz")).status_code == 200
    worker.stop(signal.SIGTERM)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False


def test_healthz_reports_a_killed_worker_down_once_its_heartbeat_is_stale(start_worker, client):
    worker = start_worker()
    assert client.get(reverse("healthz")).status_code == 200
    worker.kill_children()
    wait_until(
        lambda: client.get(reverse("healthz")).status_code == 503,
        timeout=15,
        message="a SIGKILLed worker still looked healthy",
    )
