"""Signed webhooks: register endpoints, emit events, deliver with retries, verify signatures.

emit() writes one delivery row per subscribed endpoint inside the caller's transaction (so an
event that rolls back sends nothing) and enqueues them once it commits. Each delivery is a POST
of the JSON envelope, signed with HMAC-SHA256 over f"{timestamp}.{body}" and the endpoint's
secret, in the header `Studio-Signature: t=<unix seconds>,v1=<hex digest>`.

A webhook URL is typed by an admin but requested by the server, so each send resolves the host
once, refuses the whole target if any address is not public (loopback, private, link-local,
multicast, reserved, unspecified; IPv4-mapped IPv6 judged as its IPv4), and connects to that
checked address itself: the name is not looked up again (no DNS rebinding between check and
connect), while the Host header, TLS SNI and certificate check still use the name. Redirects are
not followed and response bodies are neither read nor kept.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from briefs.models import Brief, Take
from briefs.selectors import visible_briefs
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from studio.celery import send_after_commit

EVENTS = tuple(WebhookEndpoint.Event.values)
SIGNATURE_HEADER = "Studio-Signature"
DELIVER_TASK = "integrations.deliver_webhook"


class WebhookError(Exception):
    """A webhook operation that cannot go ahead; the message is for the admin."""


class TargetRefused(WebhookError):
    """A delivery target Studio will not send to (scheme or address); retrying cannot help."""


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


def check_scheme(url: str) -> None:
    """Refuse a URL that is not https (http only with DEBUG or WEBHOOK_ALLOW_HTTP)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https":
        return
    if scheme == "http" and (settings.DEBUG or settings.WEBHOOK_ALLOW_HTTP):
        return
    raise TargetRefused("The URL must start with https:// (plain http is for development only).")


def endpoint_register(
    *, url: str, events: Sequence[str], created_by: Any = None, description: str = ""
) -> WebhookEndpoint:
    """Register an endpoint for some events; its secret is generated here."""
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise WebhookError(f"Choose events among {', '.join(EVENTS)} (got {unknown or 'none'}).")
    check_scheme(url)
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


def emit(event: str, payload: dict, *, brief_id: int | None = None) -> None:
    """Record a delivery per endpoint subscribed to `event`; send them once the caller commits.

    An event about a brief reaches an endpoint someone registered only if that person may see
    the brief (their teams); one the operator registered (no owner) hears about every brief.
    Studio-wide events (a step degrading) carry no IP's data and reach every subscriber.
    """
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}; use one of {EVENTS}.")
    # Round-trip through JSON now, so dates and decimals become what the receiver will see.
    data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            is_active=True, events__contains=[event]
        ).select_related("created_by")
        if brief_id is None
        or endpoint.created_by is None
        or visible_briefs(endpoint.created_by).filter(pk=brief_id).exists()
    ]
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
    emit(
        "take.ready",
        {**_take_fields(take), "confidence": take.confidence},
        brief_id=take.shot.brief_id,
    )


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
        brief_id=take.shot.brief_id,
    )


def emit_client_verdict(*, verdict: Any) -> None:
    """Emit client.verdict for a client's verdict through a review link (an opinion, not a move)."""
    take = Take.objects.select_related("shot__brief__ip").get(pk=verdict.take_id)
    emit(
        "client.verdict",
        {
            **_take_fields(take),
            "client_verdict_id": verdict.pk,
            "verdict": verdict.verdict,
            "comment": verdict.comment,
            "viewer_name": verdict.viewer_name,
            "review_link_id": verdict.link_id,
            "review_link_label": verdict.link.label,
        },
        brief_id=take.shot.brief_id,
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
        brief_id=brief.pk,
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


def _refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Name what makes an address unfit for a webhook, or return "" for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    for kind, hit in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("non-public", not address.is_global),
    ):
        if hit:
            return kind
    return ""


@dataclass(frozen=True)
class Target:
    """Where a delivery goes: the URL's parts, and the one address checked and connected to."""

    scheme: str
    host: str
    port: int
    path: str
    family: socket.AddressFamily
    sockaddr: tuple


def resolve_target(url: str) -> Target:
    """Check a URL's scheme, resolve its host once and check every address it resolves to."""
    check_scheme(url)
    parts = urlsplit(url)
    if not parts.hostname:
        raise TargetRefused("The URL has no host.")
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    # A failed lookup (socket.gaierror, an OSError) may be transient: it is retried like a timeout.
    infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        # Any bad answer refuses the target: a name that also points inside is not trusted.
        for info in infos:
            text = info[4][0]
            kind = _refusal(ipaddress.ip_address(text))
            if kind:
                raise TargetRefused(
                    f"Refused: {parts.hostname} resolves to {text}, a {kind} address; webhooks "
                    f"are sent only to public addresses."
                )
    family, _, _, _, sockaddr = infos[0]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, parts.hostname, port, path, family, sockaddr)


def _connect(target: Target, timeout: float) -> socket.socket:
    # Straight to the checked address: socket.create_connection would look the name up again.
    sock = socket.socket(target.family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(target.sockaddr)
    except OSError:
        sock.close()
        raise
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to a checked address, with the URL's host in the Host header."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.target = target

    def connect(self) -> None:
        self.sock = _connect(self.target, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address; the Host header, SNI and certificate check use the name."""

    def __init__(self, target: Target, timeout: float) -> None:
        context = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self.target = target

    def connect(self) -> None:
        raw = _connect(self.target, self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def _post(url: str, body: str, headers: dict[str, str]) -> int:
    """POST once to the checked address and return the status; a redirect is just an answer."""
    target = resolve_target(url)
    pinned = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = pinned(target, settings.WEBHOOK_TIMEOUT_S)
    try:
        connection.request("POST", target.path, body=body.encode(), headers=headers)
        # Only the status matters; the body is never read, so nothing of it is stored or shown.
        return connection.getresponse().status
    finally:
        connection.close()


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
    code, error, refused = None, "", False
    try:
        code = _post(delivery.endpoint.url, body, headers)
    except TargetRefused as exc:
        error, refused = str(exc), True
    except (OSError, ValueError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    succeeded = code is not None and 200 <= code < 300
    if not succeeded and not error:
        error = f"HTTP {code}"
    return _record_attempt(delivery, code, error, duration_ms, succeeded, final=refused)


@transaction.atomic
def _record_attempt(
    delivery: WebhookDelivery,
    code: int | None,
    error: str,
    duration_ms: int,
    succeeded: bool,
    *,
    final: bool = False,
) -> float | None:
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        response_code=code,
        error=error,
        duration_ms=duration_ms,
    )
    now = timezone.now()
    update: dict[str, Any] = {"response_code": code, "last_error": error}
    retry_in = None
    if succeeded:
        update.update(status=WebhookDelivery.Status.SUCCEEDED, delivered_at=now, last_error="")
        update["next_attempt_at"] = None
    elif final or delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
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
