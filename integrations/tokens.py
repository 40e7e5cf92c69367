"""Personal API tokens: create (the secret is shown once), revoke, authenticate, rate-limit."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from integrations.models import ApiToken
from studio.hashing import hash_secret

SECRET_PREFIX = "studio_"


class TokenError(Exception):
    """A token operation that cannot go ahead; the message is for the user."""


@dataclass(frozen=True)
class RateDecision:
    """Whether a call fits in its token's window, and if not how long until the next one."""

    allowed: bool
    retry_after_s: int


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
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
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
    window = settings.API_RATE_WINDOW_SECONDS
    now = timezone.now()
    started = datetime.fromtimestamp(math.floor(now.timestamp() / window) * window, tz=now.tzinfo)
    # One statement, so concurrent calls on one token count exactly (the row lock orders them).
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {ApiToken._meta.db_table}
               SET window_calls = CASE WHEN window_started_at = %s THEN window_calls + 1 ELSE 1 END,
                   window_started_at = %s,
                   last_used_at = %s
             WHERE id = %s
         RETURNING window_calls
            """,
            [started, started, now, token.pk],
        )
        row = cursor.fetchone()
    calls = row[0] if row else 1
    if calls <= settings.API_RATE_LIMIT:
        return RateDecision(allowed=True, retry_after_s=0)
    reset = started + timedelta(seconds=window)
    wait = math.ceil((reset - now).total_seconds())
    return RateDecision(allowed=False, retry_after_s=max(1, wait))


def tokens_of(*, user: Any) -> QuerySet[ApiToken]:
    """Return the user's tokens, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")
