"""Personal API tokens: shown once, stored hashed, listed, revoked from the profile page."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import ApiToken
from integrations.tokens import TokenError, token_authenticate, token_create, token_revoke
from tests.factories.users import director, producer

pytestmark = pytest.mark.django_db


def test_token_is_stored_as_a_sha256_hash_only():
    user = producer()

    token, secret = token_create(user=user, name="render farm")

    token.refresh_from_db()
    assert secret.startswith("studio_") and len(secret) > 40
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.token_hash, token.token_prefix, token.name}
    assert secret.startswith(token.token_prefix)
    assert token_authenticate(secret) == token


def test_revoked_expired_and_inactive_users_tokens_do_not_authenticate():
    user = producer()
    revoked, revoked_secret = token_create(user=user, name="old")
    _, expiring_secret = token_create(
        user=user, name="short", expires_at=timezone.now() + timedelta(minutes=5)
    )
    other = director()
    _, inactive_secret = token_create(user=other, name="leaver")

    token_revoke(token=revoked, user=user)
    ApiToken.objects.filter(name="short").update(expires_at=timezone.now())
    other.is_active = False
    other.save()

    assert token_authenticate(revoked_secret) is None
    assert token_authenticate(expiring_secret) is None
    assert token_authenticate(inactive_secret) is None
    assert token_authenticate("not-even-a-token") is None


def test_only_the_owner_revokes_and_names_and_expiry_are_checked():
    token, _ = token_create(user=producer(), name="mine")

    with pytest.raises(TokenError, match="someone else"):
        token_revoke(token=token, user=director())
    with pytest.raises(TokenError, match="name"):
        token_create(user=producer(), name="  ")
    with pytest.raises(TokenError, match="future"):
        token_create(user=producer(), name="x", expires_at=timezone.now() - timedelta(days=1))


def test_profile_page_shows_a_new_token_once_then_lists_and_revokes_it(client):
    # Given a signed-in producer
    user = producer()
    client.force_login(user)
    # When they create a token
    created = client.post("/account/tokens/", {"name": "Render farm", "expires_in_days": "30"})
    # Then the page shows the secret this once, and the list shows only its prefix
    page = created.content.decode()
    token = ApiToken.objects.get(user=user)
    secret = created.context["secret"]
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret in page and "Copy it now" in page
    assert (token.expires_at - timezone.now()).days in (29, 30)
    listed = client.get("/account/tokens/").content.decode()
    assert secret not in listed
    assert f"{token.token_prefix}…" in listed and "Render farm" in listed and "Active" in listed
    # And when they revoke it, it stays listed as revoked and stops working
    revoked = client.post(f"/account/tokens/{token.pk}/revoke/", follow=True)
    assert "Revoked" in revoked.content.decode()
    api = client.get("/api/v1/briefs", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401


def test_a_user_cannot_revoke_someone_elses_token(client):
    token, _ = token_create(user=producer(), name="theirs")
    intruder = director()
    client.force_login(intruder)

    answer = client.post(f"/account/tokens/{token.pk}/revoke/")

    token.refresh_from_db()
    assert answer.status_code == 404 and token.revoked_at is None


def test_token_page_needs_sign_in(client):
    answer = client.get("/account/tokens/")

    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]
