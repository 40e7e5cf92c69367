"""Teams scope everything: two IPs, people on one, and each page, API route and MCP tool.

Ground truth is written out here (who is on which IP), not derived from teams.selectors: A's
people must get nothing of B's (a 404, or a 403 where the page is not for their role at all),
and B's own people must get B's pages, so the world itself is shown to be set up right.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse

from briefs.models import Brief, Take
from briefs.pipeline import continuity
from integrations import webhooks
from integrations.models import WebhookDelivery
from retrieval.models import IP, Asset
from review.models import Playlist, PlaylistItem
from studio.roles import Role
from tests.factories.retrieval import IPFactory
from tests.factories.review import board_brief
from tests.factories.users import catalog_admin, director, join, producer

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class TwoTeams:
    ip_a: IP
    ip_b: IP
    outsiders: dict[str, Any]  # A's people, by role
    b_producer: Any
    b_director: Any
    brief_b: Brief
    take_b: Take
    asset_b: Asset


def two_teams() -> TwoTeams:
    """IP A with a producer, director and catalog admin; IP B with its own producer, director,
    and a brief in review whose first take is approved and whose second waits."""
    ip_a, ip_b = IPFactory(name="Alpha Harbour", team=[]), IPFactory(name="Bravo Comets", team=[])
    outsiders = {
        "producer": producer(username="a-producer", ips=[ip_a]),
        "director": director(username="a-director", ips=[ip_a]),
        "catalog admin": catalog_admin(username="a-catalog", ips=[ip_a]),
    }
    b_producer = producer(username="b-producer", ips=[ip_b])
    b_director = director(username="b-director", ips=[ip_b])
    brief_b = board_brief(shots=2, ip=ip_b, producer=b_producer, title="Bravo secret launch")
    board_brief(shots=1, ip=ip_a, producer=outsiders["producer"], title="Alpha teaser")
    takes = list(Take.objects.filter(shot__brief=brief_b).order_by("shot__order"))
    Take.objects.filter(pk=takes[0].pk).update(status=Take.Status.APPROVED)
    return TwoTeams(
        ip_a=ip_a,
        ip_b=ip_b,
        outsiders=outsiders,
        b_producer=b_producer,
        b_director=b_director,
        brief_b=brief_b,
        take_b=takes[1],
        asset_b=takes[1].references.first(),
    )


B = lambda w: w.brief_b.pk  # noqa: E731
TAKE = lambda w: w.take_b.pk  # noqa: E731
SHOT = lambda w: w.take_b.shot_id  # noqa: E731
ASSET = lambda w: w.asset_b.pk  # noqa: E731
SLUG = lambda w: w.ip_b.slug  # noqa: E731


def playlist_b(w: TwoTeams) -> int:
    session = Playlist.objects.create(name="Bravo dailies", created_by=w.b_director)
    PlaylistItem.objects.create(playlist=session, shot_id=w.take_b.shot_id, position=1)
    return session.pk


def measured_keyframe(w: TwoTeams) -> int:
    """Measure B's take for the continuity sheet; its first keyframe's index."""
    continuity.measure_take(w.take_b)
    return 0


# name: (method, url args) of pages holding B's things: A's people get 403/404, B's get 2xx/3xx.
B_PAGES = {
    "retrieval:ip_detail": ("GET", [SLUG]),
    "retrieval:search": ("GET", [SLUG]),
    "retrieval:asset_detail": ("GET", [ASSET]),
    "retrieval:asset_upload": ("POST", [SLUG]),
    "retrieval:asset_restore": ("POST", [ASSET]),
    "briefs:detail": ("GET", [B]),
    "briefs:live": ("GET", [B]),
    "briefs:cancel": ("POST", [B]),
    "briefs:retry": ("POST", [B]),
    "briefs:plan": ("POST", [B]),
    "briefs:take_media": ("GET", [TAKE]),
    "briefs:take_poster": ("GET", [TAKE]),
    "review:board": ("GET", [B]),
    "review:board_changes": ("GET", [B]),
    "review:shot_card": ("GET", [SHOT]),
    "review:export": ("GET", [B]),
    "review:bulk_decide": ("POST", [B]),
    "review:decide": ("POST", [TAKE]),
    "review:add_note": ("POST", [TAKE]),
    "review:reprompt": ("GET", [TAKE]),
    "review:make_current": ("POST", [TAKE]),
    "review:sequence": ("GET", [B]),
    "review:cut_request": ("POST", [B]),
    "review:cut_status": ("GET", [B]),
    "review:upload_take": ("POST", [SHOT]),
    "review:promote": ("POST", [TAKE]),
    "review:playlist": ("GET", [playlist_b]),
    "reliability:trace": ("GET", [B]),
    "review:continuity": ("GET", [B]),
    "review:continuity_measure": ("POST", [B]),
    "review:client_links": ("GET", [B]),
    "briefs:take_keyframe": ("GET", [TAKE, measured_keyframe]),
}
# B's producer and director are not catalog admins: these stay refused to B's people too.
B_OWNER_REFUSED = {"retrieval:asset_upload", "retrieval:asset_restore", "review:promote"}
# Pages for the brief's producer; the rest are tried as B's director.
B_PRODUCER_PAGES = {"briefs:cancel", "briefs:retry", "retrieval:asset_upload"}


def _hit(client, user, method: str, path: str):
    client.logout()
    client.force_login(user)
    return client.post(path) if method == "POST" else client.get(path)


@pytest.mark.parametrize("name", sorted(B_PAGES))
def test_given_people_on_ip_a_when_they_open_ip_bs_page_then_they_get_nothing(client, name):
    world = two_teams()
    method, args = B_PAGES[name]
    path = reverse(name, args=[arg(world) for arg in args])
    answers = {}
    for role, person in world.outsiders.items():
        with transaction.atomic():
            answers[role] = _hit(client, person, method, path).status_code
            transaction.set_rollback(True)
    assert all(status in (403, 404) for status in answers.values()), (name, answers)
    insider = world.b_producer if name in B_PRODUCER_PAGES else world.b_director
    with transaction.atomic():
        status = _hit(client, insider, method, path).status_code
        transaction.set_rollback(True)
    if name in B_OWNER_REFUSED:
        assert status == 403, (name, status)
    else:
        # Through to the page's own logic (an empty plan form is a 400, not a refusal).
        assert status not in (403, 404), (name, status)


LISTS = [
    "retrieval:catalog",
    "briefs:list",
    "briefs:create",
    "review:queue",
    "review:dailies",
    "reliability:dashboard",
]


@pytest.mark.parametrize("name", LISTS)
def test_given_people_on_ip_a_when_they_open_a_list_then_ip_b_is_not_named(client, name):
    world = two_teams()
    for role, person in world.outsiders.items():
        response = _hit(client, person, "GET", reverse(name))
        text = response.content.decode()
        assert "Bravo" not in text, (name, role)
    # B's director sees B where the page lists briefs or IPs.
    text = _hit(client, world.b_director, "GET", reverse(name)).content.decode()
    if name not in ("briefs:create",):
        assert "Bravo" in text, name


def test_given_a_director_on_a_and_producer_on_b_then_each_ip_gets_only_that_role(client):
    world = two_teams()
    person = director(username="both", ips=[world.ip_a])
    join(person, world.ip_b, Role.PRODUCER)
    own_b = board_brief(shots=1, ip=world.ip_b, producer=person, title="Bravo own")
    own_take = Take.objects.get(shot__brief=own_b)
    client.force_login(person)
    # May watch and note their own B brief, may not decide on it (they only produce there).
    assert client.get(reverse("review:board", args=[own_b.pk])).status_code == 200
    decide = client.post(
        reverse("review:decide", args=[own_take.pk]),
        {"verdict": "approved", "version": own_take.version},
    )
    assert decide.status_code == 403
    own_take.refresh_from_db()
    assert own_take.status == Take.Status.READY
    # Another producer's B brief stays hidden; A's briefs are theirs to direct.
    assert client.get(reverse("review:board", args=[world.brief_b.pk])).status_code == 404
    a_brief = Brief.objects.get(title="Alpha teaser")
    assert client.get(reverse("review:board", args=[a_brief.pk])).status_code == 200
    # The brief form offers B (they produce there) and not A.
    form = client.get(reverse("briefs:create")).content.decode()
    assert "Bravo Comets" in form and "Alpha Harbour" not in form


def _brief_body(ip: IP) -> dict:
    return {
        "ip": ip.slug,
        "title": "Sneaky",
        "beat": "A pier at dusk, then the tide.",
        "tone": "calm",
        "shot_count": 1,
        "aspect_ratio": "16:9",
        "seconds_per_shot": 4,
        "territory": "GB",
        "release_date": (date.today() + timedelta(days=30)).isoformat(),
    }


API_CALLS = {
    "search_assets": ("GET", lambda w: f"/api/v1/assets?ip={w.ip_b.slug}&q=pier", None),
    "get_asset": ("GET", lambda w: f"/api/v1/assets/{w.asset_b.pk}", None),
    "submit_brief": ("POST", lambda w: "/api/v1/briefs", lambda w: _brief_body(w.ip_b)),
    "brief_status": ("GET", lambda w: f"/api/v1/briefs/{w.brief_b.pk}", None),
    "add_note": (
        "POST",
        lambda w: f"/api/v1/takes/{w.take_b.pk}/notes",
        lambda w: {"body": "Peek", "timecode_start": 1},
    ),
    "decide_take": (
        "POST",
        lambda w: f"/api/v1/takes/{w.take_b.pk}/decision",
        lambda w: {"verdict": "approved", "expected_version": w.take_b.version},
    ),
    "continuity": ("GET", lambda w: f"/api/v1/briefs/{w.brief_b.pk}/continuity", None),
    "list_review_links": ("GET", lambda w: f"/api/v1/briefs/{w.brief_b.pk}/review-links", None),
}


@pytest.mark.parametrize("name", sorted(API_CALLS))
def test_given_people_on_ip_a_when_they_call_the_api_on_bs_things_then_they_are_refused(
    client, auth, name
):
    world = two_teams()
    method, path, body = API_CALLS[name]
    for role, person in world.outsiders.items():
        with transaction.atomic():
            if method == "POST":
                response = client.post(
                    path(world), body(world), content_type="application/json", headers=auth(person)
                )
            else:
                response = client.get(path(world), headers=auth(person))
            transaction.set_rollback(True)
        assert response.status_code in (403, 404), (name, role, response.status_code)
    insider = world.b_producer if name != "decide_take" else world.b_director
    if method == "POST":
        response = client.post(
            path(world), body(world), content_type="application/json", headers=auth(insider)
        )
    else:
        response = client.get(path(world), headers=auth(insider))
    assert response.status_code in (200, 201), (name, response.status_code, response.content)


def test_given_people_on_ip_a_when_they_list_briefs_or_the_queue_then_b_is_absent(client, auth):
    world = two_teams()
    for person in world.outsiders.values():
        for path in ("/api/v1/briefs", "/api/v1/review/queue"):
            response = client.get(path, headers=auth(person))
            assert "Bravo" not in response.content.decode(), (person.username, path)
    listed = client.get("/api/v1/review/queue", headers=auth(world.b_director)).content.decode()
    assert "Bravo secret launch" in listed


MCP_CALLS = {
    "search_assets": lambda w: {"ip": w.ip_b.slug, "query": "pier"},
    "brief_status": lambda w: {"brief_id": w.brief_b.pk},
    "add_note": lambda w: {"take_id": w.take_b.pk, "body": "Peek", "timecode_start": 1},
    "decide_take": lambda w: {"take_id": w.take_b.pk, "verdict": "approved", "expected_version": 1},
    "promote_take": lambda w: {"take_id": w.take_b.pk},
    "brief_continuity": lambda w: {"brief_id": w.brief_b.pk},
    "list_review_links": lambda w: {"brief_id": w.brief_b.pk},
    "submit_brief": lambda w: {
        **_brief_body(w.ip_b),
        "release_date": date.today() + timedelta(days=30),
    },
}


@pytest.mark.parametrize("name", sorted(MCP_CALLS))
def test_given_people_on_ip_a_when_they_call_mcp_tools_on_bs_things_then_they_are_refused(
    call_tool, name
):
    world = two_teams()
    for role, person in world.outsiders.items():
        with transaction.atomic():
            ok, result = call_tool(person, name, **MCP_CALLS[name](world))
            transaction.set_rollback(True)
        assert not ok, (name, role, result)
        assert "Bravo" not in str(result)
    ok, queue = call_tool(world.outsiders["director"], "review_queue")
    assert ok and "Bravo" not in str(queue)


def test_given_webhook_endpoints_of_each_team_when_b_has_news_then_only_bs_endpoint_hears(
    django_capture_on_commit_callbacks,
):
    world = two_teams()
    a_hook = webhooks.endpoint_register(
        url="https://a.example/hook", events=["take.ready"], created_by=world.outsiders["director"]
    )
    b_hook = webhooks.endpoint_register(
        url="https://b.example/hook", events=["take.ready"], created_by=world.b_director
    )
    operator_hook = webhooks.endpoint_register(
        url="https://ops.example/hook", events=["take.ready"]
    )
    with django_capture_on_commit_callbacks():
        webhooks.emit_take_ready(take_id=world.take_b.pk)
    heard = set(WebhookDelivery.objects.values_list("endpoint_id", flat=True))
    assert heard == {b_hook.pk, operator_hook.pk}
    assert a_hook.pk not in heard


def test_given_a_browser_signed_in_on_a_when_it_guesses_bs_media_then_nothing_comes_back(client):
    world = two_teams()
    client.force_login(world.outsiders["director"])
    media = client.get(reverse("retrieval:asset_file", args=[world.asset_b.pk, "file"]))
    assert media.status_code == 404


def test_given_leads_on_each_ip_when_b_directors_disagree_then_only_bs_lead_is_emailed(
    mailoutbox, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Permission

    from review import services

    world = two_teams()
    lead_permission = Permission.objects.get(codename="lead_director")
    for username, ip in (("a-lead", world.ip_a), ("b-lead", world.ip_b)):
        lead = director(username=username, email=f"{username}@studio.example", ips=[ip])
        lead.user_permissions.add(lead_permission)
    second = director(username="b-second", ips=[world.ip_b])
    Brief.objects.filter(pk=world.brief_b.pk).update(required_approvals=2)
    take = Take.objects.get(pk=world.take_b.pk)
    services.decide(take=take, user=world.b_director, verdict="approved", expected_version=1)
    take.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        services.decide(
            take=take,
            user=second,
            verdict="rejected",
            expected_version=take.version,
            reason_code="artefacts",
        )

    assert [message.to for message in mailoutbox] == [["b-lead@studio.example"]]
