import pytest
from django.urls import reverse

from tests.factories.users import TEST_PASSWORD, producer


@pytest.mark.django_db
def test_sign_in_and_out(client):
    user = producer()
    response = client.post(
        reverse("login"), {"username": user.username, "password": TEST_PASSWORD}, follow=True
    )
    assert response.context["user"] == user
    response = client.post(reverse("logout"), follow=True)
    assert not response.context["user"].is_authenticated


@pytest.mark.django_db
def test_a_wrong_password_gets_a_clear_error(client):
    user = producer()
    response = client.post(reverse("login"), {"username": user.username, "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_out_even_with_the_right_password(client, settings):
    user = producer()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": user.username, "password": "guess"})
    response = client.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.text
    assert not client.get(reverse("home")).wsgi_request.user.is_authenticated


@pytest.mark.django_db
def test_password_change(client):
    user = producer()
    client.force_login(user)
    new = "a much longer new passphrase 42"
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new},
        follow=True,
    )
    assert "Password changed" in response.text
    user.refresh_from_db()
    assert user.check_password(new)
