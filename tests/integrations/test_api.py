"""The JSON API: bearer tokens, the permission matrix, errors, pagination and rate limits."""

from datetime import date, timedelta

import pytest

from briefs.models import Brief, Take
from retrieval.models import Asset
from review import services
from review.models import Decision, Note
from tests.factories.briefs import BriefFactory
from tests.factories.retrieval import IPFactory, embedded_asset
from tests.factories.review import board_brief
from tests.factories.users import catalog_admin, catalog_director, director, producer

pytestmark = pytest.mark.django_db

BRIEF = {
    "title": "Lantern teaser",
    "beat": "The lantern keeper walks the pier at dusk.",
    "shot_count": 2,
    "aspect_ratio": "16:9",
    "seconds_per_shot": 4,
    "territory": "GB",
}


def brief_payload(ip, **overrides) -> dict:
    release = (date.today() + timedelta(days=30)).isoformat()
    return {**BRIEF, "ip": ip.slug, "release_date": release, **overrides}


def first_take(brief) -> Take:
    return Take.objects.filter(shot__brief=brief, is_current=True).order_by("shot__order").first()


def test_calls_without_a_valid_token_get_401_json(client, token_for):
    # Given a producer whose token has been revoked, and one with an expired token
    from integrations.models import ApiToken
    from integrations.tokens import token_revoke

    user = producer()
    revoked = token_for(user)
    token_revoke(token=ApiToken.objects.get(user=user), user=user)
    # When calling with no token, a malformed one, a revoked one
    answers = [
        client.get("/api/v1/briefs"),
        client.get("/api/v1/briefs", headers={"Authorization": "Bearer studio_nope"}),
        client.get("/api/v1/briefs", headers={"Authorization": f"Bearer {revoked}"}),
        client.get("/api/v1/briefs", headers={"Authorization": f"Basic {revoked}"}),
    ]
    # Then each is refused with a JSON detail
    assert [a.status_code for a in answers] == [401, 401, 401, 401]
    assert all(a.json() == {"detail": "Unauthorized"} for a in answers)


def test_expired_token_is_refused(client, token_for):
    from django.utils import timezone

    from integrations.models import ApiToken

    user = producer()
    secret = token_for(user, expires_at=timezone.now() + timedelta(minutes=1))
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    answer = client.get("/api/v1/briefs", headers={"Authorization": f"Bearer {secret}"})

    assert answer.status_code == 401


def test_search_finds_rights_cleared_assets_and_pages_through_them(client, auth):
    # Given an IP with three matching assets
    ip = IPFactory()
    for n in range(3):
        embedded_asset(ip=ip, title=f"Lantern keeper on the pier {n}", tags=["lantern"])
    headers = auth(catalog_admin())
    # When a catalog admin searches two at a time
    first = client.get(
        "/api/v1/assets", {"ip": ip.slug, "q": "lantern", "limit": 2}, headers=headers
    ).json()
    second = client.get(
        "/api/v1/assets",
        {"ip": ip.slug, "q": "lantern", "limit": 2, "offset": first["next_offset"]},
        headers=headers,
    ).json()
    # Then the pages cover every asset once, with their rights and scores
    assert len(first["items"]) == 2 and first["next_offset"] == 2
    assert len(second["items"]) == 1 and second["next_offset"] is None
    titles = {hit["asset"]["title"] for hit in first["items"] + second["items"]}
    assert titles == {f"Lantern keeper on the pier {n}" for n in range(3)}
    assert first["items"][0]["asset"]["rights"]["worldwide"] is True
    assert 0 < first["items"][0]["score"] <= 1


def test_get_asset_and_unknown_ids_are_404(client, auth):
    asset = embedded_asset(title="Harbour at dawn")
    headers = auth(producer())

    found = client.get(f"/api/v1/assets/{asset.pk}", headers=headers)
    missing = client.get(f"/api/v1/assets/{asset.pk + 1000}", headers=headers)
    unknown_ip = client.get("/api/v1/assets", {"ip": "nowhere", "q": "x"}, headers=headers)

    assert found.status_code == 200 and found.json()["title"] == "Harbour at dawn"
    assert missing.status_code == 404 and missing.json()["detail"] == f"No asset {asset.pk + 1000}."
    assert unknown_ip.status_code == 404 and "nowhere" in unknown_ip.json()["detail"]


def test_producer_submits_a_brief_through_the_api(client, auth):
    ip = IPFactory()
    user = producer()

    answer = client.post(
        "/api/v1/briefs", brief_payload(ip), content_type="application/json", headers=auth(user)
    )

    assert answer.status_code == 201, answer.content
    brief = Brief.objects.get(pk=answer.json()["id"])
    assert (brief.producer, brief.title, brief.status) == (user, "Lantern teaser", "queued")
    assert answer.json()["page_url"] == f"/briefs/{brief.pk}/"


@pytest.mark.parametrize(
    ("make_user", "status"), [(director, 403), (catalog_admin, 403), (producer, 201)]
)
def test_only_producers_may_submit_briefs(client, auth, make_user, status):
    answer = client.post(
        "/api/v1/briefs",
        brief_payload(IPFactory()),
        content_type="application/json",
        headers=auth(make_user()),
    )

    assert answer.status_code == status
    if status == 403:
        assert answer.json() == {"detail": "Only Producers may do this."}
        assert not Brief.objects.exists()


def test_invalid_brief_input_is_422_and_domain_errors_are_400(client, auth):
    headers = auth(producer())
    ip = IPFactory()
    foreign = embedded_asset(title="Another IP's still")

    malformed = client.post(
        "/api/v1/briefs",
        brief_payload(ip, shot_count=99, territory="Great Britain"),
        content_type="application/json",
        headers=headers,
    )
    refused = client.post(
        "/api/v1/briefs",
        brief_payload(ip, pinned_reference_ids=[foreign.pk]),
        content_type="application/json",
        headers=headers,
    )

    assert malformed.status_code == 422
    assert malformed.json()["detail"].startswith("Invalid input.")
    assert "shot_count" in malformed.json()["detail"]
    assert refused.status_code == 400
    assert refused.json() == {"detail": "“Another IP's still” belongs to another IP."}


def test_brief_status_shows_shots_only_to_those_who_may_see_the_brief(client, auth):
    # Given a brief in review owned by one producer
    brief = board_brief(shots=2)
    owner, other, a_director = brief.producer, producer(), director()
    url = f"/api/v1/briefs/{brief.pk}"
    # When its producer, another producer, a director and a catalog admin ask for it
    mine = client.get(url, headers=auth(owner))
    theirs = client.get(url, headers=auth(other))
    directed = client.get(url, headers=auth(a_director))
    admin = client.get(url, headers=auth(catalog_admin()))
    # Then the owner and the director see the shots with their current takes; others get 404
    assert mine.status_code == 200 and directed.status_code == 200
    shots = mine.json()["shots"]
    assert [s["order"] for s in shots] == [1, 2]
    assert shots[0]["current_take"]["status"] == "ready"
    assert shots[0]["current_take"]["version"] == 1
    assert theirs.status_code == 404 and admin.status_code == 404


def test_brief_list_is_paginated_and_scoped_to_the_producer(client, auth):
    user = producer()
    for _ in range(3):
        BriefFactory(producer=user)
    BriefFactory()  # someone else's

    page = client.get("/api/v1/briefs", {"limit": 2}, headers=auth(user)).json()
    rest = client.get("/api/v1/briefs", {"limit": 2, "offset": 2}, headers=auth(user)).json()

    assert len(page["items"]) == 2 and page["next_offset"] == 2
    assert len(rest["items"]) == 1 and rest["next_offset"] is None
    assert {b["producer"] for b in page["items"] + rest["items"]} == {user.username}


def test_review_queue_matrix(client, auth):
    brief = board_brief(shots=2)

    as_director = client.get("/api/v1/review/queue", headers=auth(director()))
    as_owner = client.get("/api/v1/review/queue", headers=auth(brief.producer))
    as_other = client.get("/api/v1/review/queue", headers=auth(producer()))
    as_admin = client.get("/api/v1/review/queue", headers=auth(catalog_admin()))

    assert as_director.status_code == 200 and len(as_director.json()["items"]) == 2
    assert as_director.json()["items"][0]["board_url"] == f"/review/briefs/{brief.pk}/"
    assert len(as_owner.json()["items"]) == 2
    assert as_other.status_code == 200 and as_other.json()["items"] == []
    assert as_admin.status_code == 403


def test_notes_matrix(client, auth):
    brief = board_brief(shots=1)
    take = first_take(brief)
    note = {"body": "The lantern flickers.", "timecode_start": 1.5}
    url = f"/api/v1/takes/{take.pk}/notes"

    def post(user, body=note):
        return client.post(url, body, content_type="application/json", headers=auth(user))

    by_owner = post(brief.producer)
    by_director = post(director())
    by_admin = post(catalog_admin())
    by_stranger = post(producer())
    too_late = post(director(), {"body": "Late", "timecode_start": 99})

    assert by_owner.status_code == 201 and by_owner.json()["timecode_start"] == 1.5
    assert by_director.status_code == 201
    assert by_admin.status_code == 403
    assert by_stranger.status_code == 404
    assert too_late.status_code == 400 and "within the take" in too_late.json()["detail"]
    assert Note.objects.filter(take=take).count() == 2


def test_only_directors_decide_and_a_stale_version_is_409(client, auth):
    # Given a ready take at version 1
    brief = board_brief(shots=2)
    take = first_take(brief)
    url = f"/api/v1/takes/{take.pk}/decision"
    approve = {"verdict": "approved", "expected_version": 1}

    def post(user, body):
        return client.post(url, body, content_type="application/json", headers=auth(user))

    # When its producer tries, then a director approves, then another director acts on v1
    by_producer = post(brief.producer, approve)
    no_reason = post(director(), {"verdict": "rejected", "expected_version": 1})
    approved = post(director(), approve)
    stale = post(director(), {"verdict": "rejected", "expected_version": 1, "reason": "artefacts"})

    # Then only the first director's decision applies; the late one is a 409 saying why
    assert by_producer.status_code == 403
    assert by_producer.json() == {"detail": "Only Creative Directors may do this."}
    assert no_reason.status_code == 400
    assert approved.status_code == 201, approved.content
    assert approved.json()["take"]["status"] == "approved"
    assert approved.json()["take"]["version"] == 2
    assert stale.status_code == 409
    assert "was not applied" in stale.json()["detail"]
    take.refresh_from_db()
    assert take.status == Take.Status.APPROVED
    assert Decision.objects.filter(take=take, applied=False).count() == 1


def test_decision_answer_carries_the_sign_off_when_two_directors_must_approve(client, auth):
    # Given a take whose brief needs two directors' approval
    take = first_take(board_brief(shots=1, required_approvals=2))
    url = f"/api/v1/takes/{take.pk}/decision"
    approve = {"verdict": "approved", "expected_version": 1}

    # When two directors approve the version they saw
    first = client.post(url, approve, content_type="application/json", headers=auth(director()))
    ana = director(first_name="Ana", last_name="Reyes")
    second = client.post(url, approve, content_type="application/json", headers=auth(ana))

    # Then the first is a sign-off awaiting one more, and the second approves the take
    assert first.status_code == 201, first.content
    assert first.json()["effect"] == "signed"
    assert first.json()["take"]["status"] == "ready"
    assert first.json()["signoff"]["awaited"] == 1
    assert second.json()["effect"] == "moved"
    assert second.json()["take"]["status"] == "approved"
    assert second.json()["signoff"]["required"] == 2
    assert second.json()["signoff"]["signed_by"][-1] == "Ana Reyes"
    assert second.json()["signoff"]["disputed"] is False


def test_rate_limit_answers_429_with_retry_after(client, auth, settings):
    settings.API_RATE_LIMIT = 3
    headers = auth(producer())

    codes = [client.get("/api/v1/briefs", headers=headers).status_code for _ in range(4)]
    limited = client.get("/api/v1/briefs", headers=headers)

    assert codes == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= settings.API_RATE_WINDOW_SECONDS
    assert limited.json()["detail"].startswith("Rate limit reached")


def test_token_use_is_recorded(client, token_for):
    from integrations.models import ApiToken

    secret = token_for(producer())

    client.get("/api/v1/briefs", headers={"Authorization": f"Bearer {secret}"})

    assert ApiToken.objects.get().last_used_at is not None


def test_openapi_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/openapi.json")
    docs = client.get("/api/v1/docs")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/assets", "/api/v1/briefs", "/api/v1/takes/{take_id}/decision"} <= set(paths)
    assert schema.json()["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


# A catalog admin alone sees no brief, so for them the take does not exist.
@pytest.mark.parametrize(
    ("who", "status"),
    [("own producer", 403), ("director", 403), ("catalog admin", 404), ("both", 201)],
)
def test_given_an_approved_take_when_promoting_through_the_api_then_only_catalog_admins_may(
    client, auth, who, status
):
    brief = board_brief(shots=1)
    take = first_take(brief)
    services.decide(take=take, user=director(), verdict="approved", expected_version=1)
    users = {
        "own producer": brief.producer,
        "director": director(),
        "catalog admin": catalog_admin(),
        "both": catalog_director(),
    }

    response = client.post(f"/api/v1/takes/{take.pk}/promote", headers=auth(users[who]))

    assert response.status_code == status, response.json()
    promoted = Asset.objects.filter(source="generated", provenance__take_id=take.pk)
    assert promoted.exists() == (status == 201)
    if status == 201:
        assert response.json()["kind"] == "clip" and response.json()["rights"]["worldwide"]


@pytest.mark.parametrize(
    ("who", "allowed", "message"),
    [
        ("own producer", False, "Only Catalog Admins may put takes into the catalog."),
        ("director", False, "Only Catalog Admins may put takes into the catalog."),
        ("catalog admin", False, "that you can see"),
        ("both", True, ""),
    ],
)
def test_given_an_approved_take_when_promoting_through_mcp_then_the_api_rule_holds(
    call_tool, who, allowed, message
):
    brief = board_brief(shots=1)
    take = first_take(brief)
    services.decide(take=take, user=director(), verdict="approved", expected_version=1)
    users = {
        "own producer": brief.producer,
        "director": director(),
        "catalog admin": catalog_admin(),
        "both": catalog_director(),
    }

    ok, result = call_tool(users[who], "promote_take", take_id=take.pk)

    assert ok is allowed, result
    assert message in (result if not ok else "")
    promoted = Asset.objects.filter(source="generated", provenance__take_id=take.pk)
    assert promoted.exists() == allowed
