"""Client review links through the JSON API: make, list, revoke, and read clients' verdicts."""

import pytest

from briefs.models import Take
from integrations import webhooks
from integrations.models import WebhookDelivery
from review import client_links
from review.client_links import Visitor
from review.models import ReviewLink
from studio.secrets_store import hash_secret
from tests.factories.review import board_brief
from tests.factories.users import producer

pytestmark = pytest.mark.django_db


def test_a_producer_makes_lists_and_revokes_a_link_and_reads_client_verdicts(client, auth):
    brief = board_brief(shots=2)
    first, _ = Take.objects.filter(shot__brief=brief).order_by("shot__order")
    headers = auth(brief.producer)

    made = client.post(
        f"/api/v1/briefs/{brief.pk}/review-links",
        {
            "label": "Harbour Agency",
            "days": 3,
            "password": "lantern-42",
            "shot_ids": [first.shot_id],
        },
        content_type="application/json",
        headers=headers,
    )
    link = ReviewLink.objects.get()
    client_links.client_verdict_give(
        link=link, take=first, visitor=Visitor(name="Ada Client"), verdict="approved"
    )
    listed = client.get(f"/api/v1/briefs/{brief.pk}/review-links", headers=headers)
    verdicts = client.get(f"/api/v1/briefs/{brief.pk}/client-verdicts", headers=headers)
    revoked = client.post(f"/api/v1/review-links/{link.pk}/revoke", headers=headers)

    assert made.status_code == 201
    body = made.json()
    token = body["path"].removeprefix("/r/").rstrip("/")
    assert hash_secret(token) == link.token_hash
    assert (body["shot_ids"], body["has_password"], body["status"]) == (
        [first.shot_id],
        True,
        "active",
    )
    assert listed.status_code == 200
    (entry,) = listed.json()
    assert "path" not in entry and entry["verdicts"] == 1 and entry["label"] == "Harbour Agency"
    assert [
        (v["take_id"], v["viewer_name"], v["verdict"], v["shot_order"]) for v in verdicts.json()
    ] == [(first.pk, "Ada Client", "approved", 1)]
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert client.get(body["path"]).status_code == 410


def test_another_producer_cannot_see_or_share_the_brief_through_the_api(client, auth):
    brief = board_brief(shots=1)
    headers = auth(producer())

    made = client.post(
        f"/api/v1/briefs/{brief.pk}/review-links",
        {"label": "Sneaky"},
        content_type="application/json",
        headers=headers,
    )
    verdicts = client.get(f"/api/v1/briefs/{brief.pk}/client-verdicts", headers=headers)

    assert (made.status_code, verdicts.status_code) == (404, 404)
    assert ReviewLink.objects.count() == 0


def test_a_shot_of_another_brief_is_refused(client, auth):
    brief = board_brief(shots=1)
    elsewhere = Take.objects.filter(shot__brief=board_brief(shots=1)).get()

    made = client.post(
        f"/api/v1/briefs/{brief.pk}/review-links",
        {"label": "Agency", "shot_ids": [elsewhere.shot_id]},
        content_type="application/json",
        headers=auth(brief.producer),
    )

    assert made.status_code == 400
    assert made.json()["detail"] == "Choose shots of this brief."


def test_a_client_verdict_sends_a_client_verdict_webhook_and_no_take_decided(
    client, django_capture_on_commit_callbacks
):
    brief = board_brief(shots=1)
    take = Take.objects.get(shot__brief=brief)
    webhooks.endpoint_register(
        url="https://hooks.example/studio", events=["client.verdict", "take.decided"]
    )
    link, token = client_links.link_create(brief=brief, user=brief.producer, label="Agency")
    client.post(f"/r/{token}/", {"name": "Ada Client"})

    with django_capture_on_commit_callbacks() as callbacks:
        client.post(
            f"/r/{token}/takes/{take.pk}/verdict/",
            {"verdict": "changes_requested", "comment": "Warmer light"},
        )

    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "client.verdict"
    assert {k: delivery.payload[k] for k in ("take_id", "verdict", "comment", "viewer_name")} == {
        "take_id": take.pk,
        "verdict": "changes_requested",
        "comment": "Warmer light",
        "viewer_name": "Ada Client",
    }
    assert delivery.payload["review_link_id"] == link.pk
    assert len(callbacks) == 1  # the delivery is queued once the verdict commits


def test_an_agent_shares_a_shot_and_reads_the_clients_verdict_through_mcp(call_tool, client):
    brief = board_brief(shots=2)
    first, _ = Take.objects.filter(shot__brief=brief).order_by("shot__order")

    ok, made = call_tool(
        brief.producer,
        "create_review_link",
        brief_id=brief.pk,
        label="Agency",
        shot_ids=[first.shot_id],
    )
    client.post(made["path"], {"name": "Ada Client"})
    client.post(f"{made['path']}takes/{first.pk}/verdict/", {"verdict": "approved"})
    _, verdicts = call_tool(brief.producer, "list_client_verdicts", brief_id=brief.pk)
    _, revoked = call_tool(brief.producer, "revoke_review_link", link_id=made["id"])
    refused, message = call_tool(producer(), "list_review_links", brief_id=brief.pk)

    assert ok and made["shot_ids"] == [first.shot_id]
    assert [(v["viewer_name"], v["verdict"]) for v in verdicts["items"]] == [
        ("Ada Client", "approved")
    ]
    assert revoked["status"] == "revoked"
    assert (refused, message) == (False, f"No brief {brief.pk} that you can see.")
