"""Login throttling sees the real client behind the proxies a deployment declares."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from studio.proxies import client_ip
from tests.factories.users import TEST_PASSWORD, producer

PROXY = "10.0.0.5"


def request_from(remote: str, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_without_proxies_the_socket_address_is_the_client_and_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_ip(request_from("203.0.113.9", forwarded="198.51.100.1")) == "203.0.113.9"


@pytest.mark.parametrize(
    ("count", "forwarded", "client"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        # A client's own X-Forwarded-For is kept on the left by the proxy and not believed.
        (1, "1.2.3.4, 203.0.113.9", "203.0.113.9"),
        (2, "1.2.3.4, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        # Fewer entries than proxies: it did not come through them all.
        (2, "203.0.113.9", PROXY),
        (1, None, PROXY),
    ],
)
def test_behind_proxies_the_client_is_the_first_address_they_appended(
    settings, count, forwarded, client
):
    settings.TRUSTED_PROXY_COUNT = count

    assert client_ip(request_from(PROXY, forwarded=forwarded)) == client


@pytest.mark.django_db
def test_behind_a_proxy_one_clients_failures_do_not_lock_out_another(client, settings):
    # Given one proxy in front, and an attacker who fails to sign in as a producer until locked out
    settings.TRUSTED_PROXY_COUNT = 1
    user = producer()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"username": user.username, "password": "guess"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR="198.51.100.66",
        )
    locked = client.post(
        reverse("login"),
        {"username": user.username, "password": TEST_PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.66",
    )
    assert locked.status_code == 429

    # When the producer signs in from their own address, through the same proxy
    response = client.post(
        reverse("login"),
        {"username": user.username, "password": TEST_PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        follow=True,
    )

    # Then they get in
    assert response.context["user"] == user
