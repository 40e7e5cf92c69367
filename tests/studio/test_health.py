import pytest
from django.urls import reverse
from django.utils import timezone

from studio.models import WorkerHeartbeat
from tests.factories.users import catalog_admin, producer


@pytest.fixture
def staff_client(client):
    client.force_login(catalog_admin())
    return client


@pytest.mark.django_db
def test_healthz_is_503_when_no_worker_has_reported(staff_client):
    response = staff_client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["database"]["pgvector"] >= "0.8.3"
    assert body["checks"]["broker"] == {
        "ok": True,
        "transport": "filesystem",
        "folder": body["checks"]["broker"]["folder"],
    }
    assert body["checks"]["worker"]["ok"] is False


@pytest.mark.django_db
def test_healthz_is_200_with_a_fresh_heartbeat_and_reports_its_age(staff_client):
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        hostname="w1@host", pid=1, started_at=now, seen_at=now - timezone.timedelta(seconds=1)
    )
    body = staff_client.get(reverse("healthz")).json()
    assert body["status"] == "ok"
    assert 0.5 < body["checks"]["worker"]["last_heartbeat_age_s"] < 10


@pytest.mark.django_db
def test_healthz_reports_a_stale_heartbeat_as_down(staff_client, settings):
    old = timezone.now() - timezone.timedelta(seconds=settings.WORKER_STALE_AFTER_SECONDS + 5)
    WorkerHeartbeat.objects.create(hostname="w1@host", pid=1, started_at=old, seen_at=old)
    response = staff_client.get(reverse("healthz"))
    assert response.status_code == 503
    assert "last heartbeat" in response.json()["checks"]["worker"]["error"]


@pytest.mark.django_db
def test_healthz_reports_an_unreachable_broker(staff_client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    from studio.celery import app

    app.conf.broker_url = settings.CELERY_BROKER_URL
    try:
        response = staff_client.get(reverse("healthz"))
    finally:
        app.conf.broker_url = "filesystem://"
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


@pytest.mark.django_db
@pytest.mark.parametrize("login", [None, producer], ids=["anonymous", "producer"])
def test_healthz_tells_non_staff_only_up_or_down(client, settings, login):
    # Given a broker whose error text names a host, and a caller who is not staff
    settings.CELERY_BROKER_URL = "redis://:hunter2@broker.internal:1/0"
    from studio.celery import app

    app.conf.broker_url = settings.CELERY_BROKER_URL
    if login is not None:
        client.force_login(login())
    # When they ask for health
    try:
        response = client.get(reverse("healthz"))
    finally:
        app.conf.broker_url = "filesystem://"
    # Then they learn it is down, and nothing else
    assert response.status_code == 503
    assert response.json() == {"status": "down"}
    assert b"broker.internal" not in response.content


@pytest.mark.django_db
def test_healthz_shows_staff_the_error_text(staff_client, settings):
    # Given a broker that cannot be reached
    settings.CELERY_BROKER_URL = "redis://broker.internal:1/0"
    from studio.celery import app

    app.conf.broker_url = settings.CELERY_BROKER_URL
    # When staff ask for health
    try:
        response = staff_client.get(reverse("healthz"))
    finally:
        app.conf.broker_url = "filesystem://"
    # Then they see which check failed and why
    broker = response.json()["checks"]["broker"]
    assert broker["ok"] is False
    assert broker["error"]
