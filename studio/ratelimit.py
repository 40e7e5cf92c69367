"""One fixed-window rate limiter for everything that counts calls (API tokens, review links).

The counter is a row in PostgreSQL, which every web process, worker and MCP server shares, so a
limit holds across processes; one upsert per call counts concurrent calls exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from studio.models import RateWindow


@dataclass(frozen=True)
class RateDecision:
    """Whether a call fits its window; if not, how long until the next window opens."""

    allowed: bool
    retry_after_s: int
    # True only for the call that first went over: log a refusal once per window, not per call.
    first_refusal: bool = False


def rate_hit(key: str, *, limit: int, window_s: int, now: datetime | None = None) -> RateDecision:
    """Count one call for `key` in its fixed window of `window_s` seconds and say if it fits."""
    now = now or timezone.now()
    started = datetime.fromtimestamp(
        math.floor(now.timestamp() / window_s) * window_s, tz=now.tzinfo
    )
    table = RateWindow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} AS w (key, window_start, calls) VALUES (%s, %s, 1)
            ON CONFLICT (key) DO UPDATE
               SET calls = CASE WHEN w.window_start = EXCLUDED.window_start
                                THEN w.calls + 1 ELSE 1 END,
                   window_start = EXCLUDED.window_start
            RETURNING calls
            """,
            [key[:200], started],
        )
        calls = cursor.fetchone()[0]
    if calls <= limit:
        return RateDecision(allowed=True, retry_after_s=0)
    wait = math.ceil((started + timedelta(seconds=window_s) - now).total_seconds())
    return RateDecision(allowed=False, retry_after_s=max(1, wait), first_refusal=calls == limit + 1)
