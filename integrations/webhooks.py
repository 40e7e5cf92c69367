"""Signed webhooks: register endpoints, emit events, deliver with retries, verify signatures.

emit() writes one delivery row per subscribed endpoint inside the caller's transaction (so an
event that rolls back sends nothing) and enqueues them once it commits. Each delivery is a POST
of the JSON envelope, signed with HMAC-SHA256 over f"{timestamp}.{body}" and the endpoint's
secret, in the header `Studio-Signature: t=<unix seconds>,v1=<hex digest>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from briefs.models import Brief, Take
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from studio.celery import send_after_commit

EVENTS = tuple(WebhookEndpoint.Event.values)
SIGNATURE_HEADER = "Studio-Signature"
RESPONSE_EXCERPT = 2000
DELIVER_TASK = "integrations.deliver_webhook"


class WebhookError(Exception):
    """A webhook operation that cannot go ahead; the message is for the admin."""


def sign(secret: str, timestamp: int, body: str) -> str:
    """Return the hex HMAC-SHA256 of f"{timestamp}.{body}" under the endpoint's secret."""
    message = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: str) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(secret: str, header: str, body: str, *, tolerance_s: int = 300, now=None) -> bool:
    """Tell whether a Studio-Signature header matches the body and is recent enough."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), parts.get("v1", ""))


def endpoint_register(
    *, url: str, events: Sequence[str], created_by: Any = None, description: str = ""
) -> WebhookEndpoint:
    """Register an endpoint for some events; its secret is generated here."""
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise WebhookError(f"Choose events among {', '.join(EVENTS)} (got {unknown or 'none'}).")
    if not url.startswith(("https://", "http://")):
        raise WebhookError("The URL must start with https:// or http://.")
    return WebhookEndpoint.objects.create(
        url=url, events=sorted(set(events)), created_by=created_by, description=description
    )


def envelope(*, event: str, event_id: uuid.UUID, payload: dict, created_at) -> dict:
    return {"id": str(event_id), "event": event, "created_at": created_at, "data": payload}


def body_of(delivery: WebhookDelivery) -> str:
    """Return the exact bytes (as text) a delivery sends: compact, key-sorted JSON."""
    document = envelope(
        event=delivery.event,
        event_id=delivery.event_id,
        payload=delivery.payload,
        created_at=delivery.created_at.isoformat(),
    )
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def emit(event: str, payload: dict) -> None:
    """Record a delivery per endpoint subscribed to `event`; send them once the caller commits."""
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}; use one of {EVENTS}.")
    # Round-trip through JSON now, so dates and decimals become what the receiver will see.
    data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    endpoints = WebhookEndpoint.objects.filter(is_active=True, events__contains=[event])
    event_id = uuid.uuid4()
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint, event=event, event_id=event_id, payload=data, next_attempt_at=now
        )
        for endpoint in endpoints
    )
    _enqueue_on_commit([delivery.pk for delivery in deliveries])


def emit_take_ready(*, take_id: int) -> None:
    """Emit take.ready for a take that passed its checks (call where it becomes ready)."""
    take = Take.objects.select_related("shot__brief__ip").get(pk=take_id)
    emit("take.ready", {**_take_fields(take), "confidence": take.confidence})


def emit_take_decided(*, decision: Any) -> None:
    """Emit take.decided for an applied review.Decision (call right after it is recorded)."""
    take = Take.objects.select_related("shot__brief__ip").get(pk=decision.take_id)
    emit(
        "take.decided",
        {
            **_take_fields(take),
            "decision_id": decision.pk,
            "verdict": decision.verdict,
            "reason": decision.reason,
            "reason_text": decision.reason_text,
            "decided_by": decision.user.get_username(),
        },
    )


def emit_brief_completed(*, brief_id: int) -> None:
    """Emit brief.completed for a brief whose every shot has an approved take."""
    brief = Brief.objects.select_related("ip", "producer").get(pk=brief_id)
    emit(
        "brief.completed",
        {
            "brief_id": brief.pk,
            "title": brief.title,
            "ip": brief.ip.slug,
            "producer": brief.producer.get_username(),
            "shot_count": brief.shot_count,
            "completed_at": brief.completed_at,
            "path": brief.get_absolute_url(),
        },
    )


def _take_fields(take: Any) -> dict:
    brief = take.shot.brief
    return {
        "take_id": take.pk,
        "take_number": take.number,
        "take_version": take.version,
        "status": take.status,
        "shot_id": take.shot_id,
        "shot_order": take.shot.order,
        "brief_id": brief.pk,
        "brief_title": brief.title,
        "ip": brief.ip.slug,
        "path": reverse("review:board", args=[brief.pk]),
    }


def _enqueue_on_commit(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        send_after_commit(DELIVER_TASK, delivery_id)


@transaction.atomic
def delivery_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's event again as a new delivery (same event id, fresh attempts)."""
    copy = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint,
        event=delivery.event,
        event_id=delivery.event_id,
        payload=delivery.payload,
        next_attempt_at=timezone.now(),
    )
    _enqueue_on_commit([copy.pk])
    return copy


def backoff_seconds(attempt: int) -> float:
    """Return the wait after failed attempt `attempt` (1-based): base * 2^(attempt-1), capped."""
    return min(settings.WEBHOOK_BACKOFF_BASE_S * 2 ** (attempt - 1), settings.WEBHOOK_BACKOFF_MAX_S)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Report a redirect as the answer: following it would turn the signed POST into a GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _post(url: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_S) as response:
            return response.status, response.read(RESPONSE_EXCERPT).decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read(RESPONSE_EXCERPT).decode(errors="replace")


def attempt_delivery(delivery_id: int) -> float | None:
    """Try one delivery once, if it is due; return seconds until the next try, or None if done.

    The attempt is claimed with a conditional UPDATE that pushes next_attempt_at past the
    request timeout, so a duplicate task (or the sweeper) cannot send it twice at once.
    """
    now = timezone.now()
    hold = timedelta(seconds=settings.WEBHOOK_TIMEOUT_S + 30)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + hold)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    body = body_of(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Studio-Webhooks/1",
        "Studio-Event": delivery.event,
        "Studio-Delivery": str(delivery.pk),
        "Studio-Event-Id": str(delivery.event_id),
        SIGNATURE_HEADER: signature_header(delivery.endpoint.secret, timestamp, body),
    }
    started = time.monotonic()
    code, excerpt, error = None, "", ""
    try:
        code, excerpt = _post(delivery.endpoint.url, body, headers)
    except (OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    succeeded = code is not None and 200 <= code < 300
    if not succeeded and not error:
        error = f"HTTP {code}"
    return _record_attempt(delivery, code, excerpt, error, duration_ms, succeeded)


@transaction.atomic
def _record_attempt(
    delivery: WebhookDelivery,
    code: int | None,
    excerpt: str,
    error: str,
    duration_ms: int,
    succeeded: bool,
) -> float | None:
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        response_code=code,
        error=error,
        duration_ms=duration_ms,
    )
    now = timezone.now()
    update: dict[str, Any] = {"response_code": code, "response_body": excerpt, "last_error": error}
    retry_in = None
    if succeeded:
        update.update(status=WebhookDelivery.Status.SUCCEEDED, delivered_at=now, last_error="")
        update["next_attempt_at"] = None
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        update.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    else:
        retry_in = backoff_seconds(delivery.attempts)
        update["next_attempt_at"] = now + timedelta(seconds=retry_in)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**update)
    return retry_in


def overdue_deliveries(*, grace_s: float = 60) -> list[int]:
    """Return pending deliveries well past their time: their wake-up message was lost."""
    cutoff = timezone.now() - timedelta(seconds=grace_s)
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=cutoff
        ).values_list("pk", flat=True)[:500]
    )
