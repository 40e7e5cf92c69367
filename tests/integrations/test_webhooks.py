"""Signed webhooks: signatures checked independently, deliveries retried with backoff."""

import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.utils import timezone

from integrations import webhooks
from integrations.models import WebhookDelivery, WebhookEndpoint
from tests.workers import wait_until


class Receiver:
    """A loopback webhook receiver answering with scripted status codes, recording each request."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                reply = b"ok" if status < 300 else b"try later"
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/studio"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def loopback_allowed(settings):
    """Allow the suite's loopback receivers, which the default configuration refuses."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_ALLOW_HTTP = True


@pytest.fixture
def receiver_factory(loopback_allowed):
    receivers: list[Receiver] = []

    def make(statuses: list[int]) -> Receiver:
        receivers.append(Receiver(statuses))
        return receivers[-1]

    yield make
    for receiver in receivers:
        receiver.close()


def independent_signature(secret: str, timestamp: str, body: str) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


def test_signature_is_hmac_sha256_over_timestamp_dot_body():
    body = '{"event":"take.ready"}'

    header = webhooks.signature_header("s3cret", 1_800_000_000, body)

    expected = independent_signature("s3cret", "1800000000", body)
    assert header == f"t=1800000000,v1={expected}"
    assert webhooks.verify("s3cret", header, body, now=1_800_000_100)
    assert not webhooks.verify("s3cret", header, body + " ", now=1_800_000_100)
    assert not webhooks.verify("other", header, body, now=1_800_000_100)
    assert not webhooks.verify("s3cret", header, body, now=1_800_000_000 + 301)
    assert not webhooks.verify("s3cret", "v1=abc", body)


@pytest.mark.django_db
def test_emit_records_deliveries_for_subscribers_and_sends_after_commit(
    django_capture_on_commit_callbacks,
):
    # Given three endpoints: subscribed, subscribed to something else, switched off
    wanted = webhooks.endpoint_register(url="https://a.example/hook", events=["take.ready"])
    webhooks.endpoint_register(url="https://b.example/hook", events=["brief.completed"])
    WebhookEndpoint.objects.create(
        url="https://c.example/hook", events=["take.ready"], is_active=False
    )
    # When a take.ready event is emitted inside a transaction
    with django_capture_on_commit_callbacks() as callbacks:
        webhooks.emit("take.ready", {"take_id": 7, "when": timezone.now()})
    # Then one delivery is recorded for the subscriber, sent only once the transaction commits
    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == wanted and delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.payload["take_id"] == 7 and isinstance(delivery.payload["when"], str)
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_an_event_whose_transaction_rolls_back_sends_nothing(django_capture_on_commit_callbacks):
    webhooks.endpoint_register(url="https://a.example/hook", events=["take.decided"])

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        webhooks.emit("take.decided", {"take_id": 1})
        raise RuntimeError("the decision failed")

    assert not WebhookDelivery.objects.exists()
    assert callbacks == []


def test_unknown_events_are_refused():
    with pytest.raises(ValueError, match="Unknown webhook event"):
        webhooks.emit("brief.exploded", {})
    with pytest.raises(webhooks.WebhookError):
        webhooks.endpoint_register(url="https://a.example", events=["brief.exploded"])


@pytest.mark.django_db
def test_receiver_failing_twice_gets_the_event_on_the_third_try(receiver_factory, settings):
    # Given a receiver that answers 500, 503, then 200
    settings.WEBHOOK_BACKOFF_BASE_S = 10
    receiver = receiver_factory([500, 503, 200])
    endpoint = webhooks.endpoint_register(url=receiver.url, events=["brief.completed"])
    webhooks.emit("brief.completed", {"brief_id": 42, "title": "Lantern teaser"})
    delivery = WebhookDelivery.objects.get()
    # When the delivery is tried, and retried each time its backoff has passed
    waits = []
    for _ in range(3):
        waits.append(webhooks.attempt_delivery(delivery.pk))
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    # Then the backoff doubled, the third try succeeded and every attempt is on record
    assert waits == [10, 20, None]
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert (delivery.attempts, delivery.response_code) == (3, 200)
    log = list(delivery.attempt_log.values_list("number", "response_code", "error"))
    assert log == [(1, 500, "HTTP 500"), (2, 503, "HTTP 503"), (3, 200, "")]
    # And every request carried a signature the receiver can check with its own HMAC
    for request in receiver.requests:
        fields = dict(
            part.split("=", 1) for part in request["headers"]["Studio-Signature"].split(",")
        )
        assert fields["v1"] == independent_signature(endpoint.secret, fields["t"], request["body"])
        assert abs(int(fields["t"]) - time.time()) < 60
        assert request["headers"]["Studio-Event"] == "brief.completed"
    document = json.loads(receiver.requests[-1]["body"])
    assert document["event"] == "brief.completed"
    assert document["data"] == {"brief_id": 42, "title": "Lantern teaser"}
    assert document["id"] == str(delivery.event_id)


@pytest.mark.django_db
def test_a_delivery_not_yet_due_is_not_sent_twice(receiver_factory):
    receiver = receiver_factory([500])
    webhooks.endpoint_register(url=receiver.url, events=["take.ready"])
    webhooks.emit("take.ready", {"take_id": 1})
    delivery = WebhookDelivery.objects.get()

    webhooks.attempt_delivery(delivery.pk)
    again = webhooks.attempt_delivery(delivery.pk)

    assert again is None
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_a_redirect_is_a_failed_attempt_not_followed(receiver_factory):
    receiver = receiver_factory([302])
    webhooks.endpoint_register(url=receiver.url, events=["take.ready"])
    webhooks.emit("take.ready", {"take_id": 1})
    delivery = WebhookDelivery.objects.get()

    retry_in = webhooks.attempt_delivery(delivery.pk)

    delivery.refresh_from_db()
    assert retry_in is not None
    assert (delivery.status, delivery.response_code) == ("pending", 302)
    assert [r["headers"]["Studio-Event"] for r in receiver.requests] == ["take.ready"]


@pytest.mark.django_db
def test_delivery_gives_up_after_the_last_attempt(settings, loopback_allowed):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    endpoint = webhooks.endpoint_register(url="http://127.0.0.1:9/closed", events=["take.ready"])
    webhooks.emit("take.ready", {"take_id": 1})
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)

    first = webhooks.attempt_delivery(delivery.pk)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    second = webhooks.attempt_delivery(delivery.pk)

    delivery.refresh_from_db()
    assert first is not None and second is None
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.response_code is None
    assert "ConnectionRefusedError" in delivery.last_error or "URLError" in delivery.last_error


@pytest.mark.django_db
def test_admin_resends_a_delivery_as_a_new_one_with_the_same_event_id(
    admin_client, django_capture_on_commit_callbacks
):
    webhooks.endpoint_register(url="https://a.example/hook", events=["take.decided"])
    webhooks.emit("take.decided", {"take_id": 3})
    original = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=original.pk).update(status=WebhookDelivery.Status.FAILED)

    with django_capture_on_commit_callbacks() as callbacks:
        answer = admin_client.post(
            "/admin/integrations/webhookdelivery/",
            {"action": "resend", "_selected_action": [original.pk]},
            follow=True,
        )

    assert "Queued 1 re-send(s)." in answer.content.decode()
    copy = WebhookDelivery.objects.exclude(pk=original.pk).get()
    assert copy.status == WebhookDelivery.Status.PENDING
    assert (copy.event_id, copy.payload) == (original.event_id, original.payload)
    assert len(callbacks) == 1


@pytest.mark.worker
def test_a_real_worker_delivers_with_retries_and_backoff(start_worker, receiver_factory):
    # Given a worker with a short backoff and a receiver that fails twice
    start_worker(
        env={
            "WEBHOOK_BACKOFF_BASE_S": "0.3",
            "WEBHOOK_ALLOW_HTTP": "true",
            "STUDIO_TEST_WEBHOOK_PRIVATE_TARGETS": "1",
        }
    )
    receiver = receiver_factory([500, 502, 200])
    webhooks.endpoint_register(url=receiver.url, events=["step.degraded"])
    # When an event is emitted and its transaction commits
    with transaction.atomic():
        webhooks.emit("step.degraded", {"step": "generate", "success_rate": 0.61})
    # Then the worker keeps trying until the receiver takes it
    delivery = wait_until(
        lambda: WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SUCCEEDED).first(),
        timeout=60,
        message="the delivery never succeeded",
    )
    assert delivery.attempts == 3
    codes = list(delivery.attempt_log.values_list("response_code", flat=True))
    assert codes == [500, 502, 200]
    assert len(receiver.requests) == 3


@pytest.mark.django_db
def test_event_helpers_describe_the_take_and_the_decision():
    from review.models import Decision
    from tests.factories.review import board_brief

    # Given an endpoint for every event and a brief with a decided take
    webhooks.endpoint_register(url="https://a.example/hook", events=list(webhooks.EVENTS))
    brief = board_brief(shots=1)
    take = brief.shots.get().takes.get()
    decision = Decision.objects.create(
        take=take, user=brief.producer, verdict="rejected", reason="artefacts", take_version=1
    )
    # When the helpers emit take.ready, take.decided and brief.completed
    webhooks.emit_take_ready(take_id=take.pk)
    webhooks.emit_take_decided(decision=decision)
    webhooks.emit_brief_completed(brief_id=brief.pk)
    # Then each delivery carries what a receiver needs to act without calling back
    sent = {d.event: d.payload for d in WebhookDelivery.objects.all()}
    assert sent["take.ready"]["take_id"] == take.pk
    assert sent["take.ready"]["path"] == f"/review/briefs/{brief.pk}/"
    assert sent["take.ready"]["confidence"] == take.confidence
    assert sent["take.decided"]["verdict"] == "rejected"
    assert sent["take.decided"]["reason"] == "artefacts"
    assert sent["take.decided"]["decided_by"] == brief.producer.username
    assert sent["brief.completed"]["brief_id"] == brief.pk
    assert sent["brief.completed"]["ip"] == brief.ip.slug


@pytest.mark.django_db
def test_review_alerts_reach_subscribed_endpoints():
    from reliability.alerts import emit_event

    webhooks.endpoint_register(url="https://a.example/hook", events=["step.recovered"])

    emit_event("step.recovered", {"step": "check", "pass_rate": 0.93})

    assert WebhookDelivery.objects.get().payload == {"step": "check", "pass_rate": 0.93}


def delivery_to(url: str) -> WebhookDelivery:
    endpoint = WebhookEndpoint.objects.create(url=url, events=["take.ready"])
    webhooks.emit("take.ready", {"take_id": 1})
    return WebhookDelivery.objects.get(endpoint=endpoint)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "address", "kind"),
    [
        ("https://127.0.0.1/hook", "127.0.0.1", "loopback"),
        ("https://localhost:8443/hook", "", "loopback"),
        ("https://[::1]/hook", "::1", "loopback"),
        ("https://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1", "loopback"),
        ("https://10.1.2.3/hook", "10.1.2.3", "private"),
        ("https://192.168.1.20/hook", "192.168.1.20", "private"),
        ("https://[fd00::1]/hook", "fd00::1", "private"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254", "link-local"),
        ("https://[fe80::1]/hook", "fe80::1", "link-local"),
        ("https://224.0.0.251/hook", "224.0.0.251", "multicast"),
        ("https://0.0.0.0/hook", "0.0.0.0", "unspecified"),
        ("https://240.0.0.1/hook", "240.0.0.1", "reserved"),
    ],
)
def test_given_the_default_configuration_when_a_target_is_not_public_then_it_is_refused(
    url, address, kind
):
    delivery = delivery_to(url)

    retry_in = webhooks.attempt_delivery(delivery.pk)

    delivery.refresh_from_db()
    assert retry_in is None and delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.last_error.startswith("Refused: ")
    assert f"a {kind} address; webhooks are sent only to public addresses" in delivery.last_error
    assert address in delivery.last_error
    attempt = delivery.attempt_log.get()
    assert (attempt.response_code, attempt.error) == (None, delivery.last_error)


@pytest.mark.django_db
def test_given_a_name_with_one_private_answer_when_sending_then_the_target_is_refused(
    monkeypatch,
):
    answers = [("93.184.215.14", 443), ("10.0.0.7", 443)]
    monkeypatch.setattr(
        webhooks.socket,
        "getaddrinfo",
        lambda host, port, *args, **kw: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", address) for address in answers
        ],
    )
    delivery = delivery_to("https://hooks.example/studio")

    webhooks.attempt_delivery(delivery.pk)

    delivery.refresh_from_db()
    assert "hooks.example resolves to 10.0.0.7, a private address" in delivery.last_error


@pytest.mark.django_db
def test_given_a_name_when_sending_then_it_is_resolved_once_and_the_checked_address_is_used(
    receiver_factory, monkeypatch
):
    receiver = receiver_factory([200])
    port = receiver.server.server_port
    lookups = []

    def rebinding_dns(host, port_, *args, **kwargs):
        # The first answer is checked and used; any later lookup would be sent elsewhere.
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "192.0.2.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port_))]

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", rebinding_dns)
    delivery = delivery_to(f"http://hooks.example:{port}/hooks/studio")

    webhooks.attempt_delivery(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED, delivery.last_error
    assert lookups == ["hooks.example"]
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example:{port}"


@pytest.mark.django_db
def test_given_the_default_configuration_when_a_target_is_plain_http_then_it_is_refused(
    settings,
):
    settings.DEBUG = False
    delivery = delivery_to("http://hooks.example/studio")

    webhooks.attempt_delivery(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "must start with https://" in delivery.last_error
    with pytest.raises(webhooks.WebhookError, match="must start with https://"):
        webhooks.endpoint_register(url="http://hooks.example/studio", events=["take.ready"])


@pytest.mark.django_db
def test_given_development_settings_when_a_target_is_plain_http_then_the_scheme_passes(settings):
    settings.DEBUG = True

    endpoint = webhooks.endpoint_register(url="http://hooks.example/studio", events=["take.ready"])

    assert endpoint.url.startswith("http://")


@pytest.mark.django_db
def test_given_a_receiver_that_answers_text_when_delivered_then_the_admin_shows_none_of_it(
    receiver_factory, admin_client
):
    receiver = receiver_factory([500])
    webhooks.endpoint_register(url=receiver.url, events=["take.ready"])
    webhooks.emit("take.ready", {"take_id": 1})
    delivery = WebhookDelivery.objects.get()

    webhooks.attempt_delivery(delivery.pk)

    page = admin_client.get(f"/admin/integrations/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200 and "HTTP 500" in page.content.decode()
    assert "try later" not in page.content.decode()


@pytest.mark.django_db
def test_given_the_admin_when_adding_a_plain_http_endpoint_then_the_form_refuses(
    admin_client, settings
):
    settings.DEBUG = False

    page = admin_client.post(
        "/admin/integrations/webhookendpoint/add/",
        {
            "url": "http://hooks.example/studio",
            "events": "take.ready",
            "secret": "s",
            "is_active": "on",
        },
    )

    assert page.status_code == 200 and "must start with https://" in page.content.decode()
    assert not WebhookEndpoint.objects.exists()


def certificate_authority(tmp_path, host: str) -> tuple[str, str, str]:
    """Write a CA and a server certificate for `host` signed by it: (ca, cert, key) paths."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def build(subject, issuer, public_key, signing_key, *, ca: bool, names=()):
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
            )
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = build(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True)
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    server = build(server_name, ca_name, server_key.public_key(), ca_key, ca=False, names=[host])
    paths = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return tuple(str(p) for p in paths)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "delivered"), [("hooks.example", True), ("other.example", False)])
def test_given_https_when_sending_to_the_checked_address_then_tls_still_checks_the_name(
    receiver_factory, monkeypatch, tmp_path, name, delivered
):
    import ssl

    receiver = receiver_factory([200])
    ca, cert, key = certificate_authority(tmp_path, "hooks.example")
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    receiver.server.socket = server_side.wrap_socket(receiver.server.socket, server_side=True)
    port = receiver.server.server_port
    trusting = ssl.create_default_context(cafile=ca)
    monkeypatch.setattr(webhooks.ssl, "create_default_context", lambda: trusting)
    monkeypatch.setattr(
        webhooks.socket,
        "getaddrinfo",
        lambda host, port_, *a, **kw: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port_))
        ],
    )
    delivery = delivery_to(f"https://{name}:{port}/hooks/studio")

    webhooks.attempt_delivery(delivery.pk)

    delivery.refresh_from_db()
    if delivered:
        assert delivery.status == WebhookDelivery.Status.SUCCEEDED, delivery.last_error
        assert receiver.requests[0]["headers"]["Host"] == f"hooks.example:{port}"
    else:
        # The certificate names hooks.example: connecting by address did not skip the check.
        assert "CERTIFICATE_VERIFY_FAILED" in delivery.last_error
        assert receiver.requests == []
