"""Personal API tokens: create (the secret is shown once), revoke, authenticate, rate-limit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from integrations.models import ApiToken
from studio.ratelimit import RateDecision, rate_hit
from studio.secrets_store import hash_secret, new_secret

SECRET_PREFIX = "studio_"


class TokenError(Exception):
    """A token operation that cannot go ahead; the message is for the user."""


@transaction.atomic
def token_create(
    *, user: Any, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for `user` and return it with its secret, which is never stored."""
    name = name.strip()
    if not name:
        raise TokenError("Give the token a name.")
    if expires_at is not None and expires_at <= timezone.now():
        raise TokenError("The expiry must lie in the future.")
    secret = new_secret(SECRET_PREFIX)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        token_prefix=secret[: len(SECRET_PREFIX) + 6],
        token_hash=hash_secret(secret),
        expires_at=expires_at,
    )
    return token, secret


def token_revoke(*, token: ApiToken, user: Any) -> ApiToken:
    """Revoke one of the user's tokens; revoking twice keeps the first time."""
    if token.user_id != user.pk:
        raise TokenError("That token belongs to someone else.")
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


def token_authenticate(secret: str) -> ApiToken | None:
    """Return the live token for a secret (with its active user loaded), or None."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_secret(secret), user__is_active=True)
        .first()
    )
    if token is None or not token.is_active_at(timezone.now()):
        return None
    return token


def token_record_call(*, token: ApiToken) -> RateDecision:
    """Count one call in the token's fixed window, note when it was used, and say if it fits."""
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return rate_hit(
        f"api-token:{token.pk}",
        limit=settings.API_RATE_LIMIT,
        window_s=settings.API_RATE_WINDOW_SECONDS,
    )


def tokens_of(*, user: Any) -> QuerySet[ApiToken]:
    """Return the user's tokens, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")
