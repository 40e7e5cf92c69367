"""Every role x every page, API route and MCP tool, against the first producer's objects.

The expected statuses are written out here by hand, one row per page, from who each page is for;
they are not computed from Studio's own permission code. A new page, route or tool without a row
fails the completeness tests, so it cannot ship without someone deciding who may use it.

Columns, in order: anonymous, producer (owns the objects), second producer, director, lead
director, catalog admin, superuser. "L" is a redirect to the sign-in page; "pub" a public page
whose answer (200 up, 503 down) does not depend on who asks.
"""

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from briefs.pipeline import continuity
from integrations import mcp_server
from integrations.api.routes import api
from review import client_links
from review.models import CutRender, Playlist, PlaylistItem, ReviewLink
from tests.factories.access import ROLES, World, access_world
from tests.factories.briefs import clip_bytes

pytestmark = pytest.mark.django_db

Path = Callable[[World], str]


def row(cells: str) -> dict[str, str]:
    values = cells.split()
    assert len(values) == len(ROLES), cells
    return dict(zip(ROLES, values, strict=True))


def url(name: str, *args: Callable[[World], object], query: str = "") -> Path:
    return lambda w: reverse(name, args=[arg(w) for arg in args]) + query


BRIEF = lambda w: w.brief.pk  # noqa: E731
READY = lambda w: w.ready.pk  # noqa: E731
APPROVED = lambda w: w.approved.pk  # noqa: E731
READY_SHOT = lambda w: w.ready.shot_id  # noqa: E731
ASSET = lambda w: w.asset.pk  # noqa: E731
IP_SLUG = lambda w: w.ip.slug  # noqa: E731
POLICY = lambda w: w.policy.pk  # noqa: E731


def ready_cut(world: World) -> CutRender:
    """A rendered approved cut of the first producer's brief."""
    cut = CutRender.objects.create(
        brief=world.brief, key="matrix", status=CutRender.Status.READY, duration_s=4.0
    )
    cut.file.save("cut.mp4", ContentFile(clip_bytes()))
    return cut


def client_link(world: World) -> tuple[ReviewLink, str]:
    """A client review link to the first producer's brief, and its token."""
    return client_links.link_create(brief=world.brief, user=world.users["producer"], label="Agency")


def client_url(name: str) -> Path:
    """A public page behind a fresh link; the ready take's, for those that name a take."""

    def path(world: World) -> str:
        _, token = client_link(world)
        args = [token] if name == "client_review:open" else [token, world.ready.pk]
        return reverse(name, args=args)

    return path


def keyframe_url(world: World) -> str:
    """The first continuity keyframe of the first producer's approved take, measured now."""
    continuity.measure_take(world.approved)
    return reverse("briefs:take_keyframe", args=[world.approved.pk, 0])


def playlist(world: World) -> Playlist:
    """A dailies playlist holding the first producer's ready shot."""
    session = Playlist.objects.create(name="Matrix dailies", created_by=world.users["director"])
    PlaylistItem.objects.create(playlist=session, shot_id=world.ready.shot_id, position=1)
    return session


#          name: (method, path, expected per role)
PAGES: dict[str, tuple[str, Path, str]] = {
    "home": ("GET", url("home"), "L 200 200 200 200 200 200"),
    "healthz": ("GET", url("healthz"), "pub pub pub pub pub pub pub"),
    "login": ("GET", url("login"), "200 302 302 302 302 302 302"),
    "logout": ("POST", url("logout"), "L L L L L L L"),
    "password_change": ("GET", url("password_change"), "L 200 200 200 200 200 200"),
    "password_change_done": ("GET", url("password_change_done"), "L 200 200 200 200 200 200"),
    "tokens": ("GET", url("tokens"), "L 200 200 200 200 200 200"),
    "token_revoke": (
        "POST",
        lambda w: reverse("token_revoke", args=[w.token.pk]),
        "L 302 404 404 404 404 404",
    ),
    # The catalog: everyone with a role reads it; catalog admins write it.
    "retrieval:catalog": ("GET", url("retrieval:catalog"), "L 200 200 200 200 200 200"),
    "retrieval:ip_detail": (
        "GET",
        url("retrieval:ip_detail", IP_SLUG),
        "L 200 200 200 200 200 200",
    ),
    "retrieval:search": ("GET", url("retrieval:search", IP_SLUG), "L 200 200 200 200 200 200"),
    "retrieval:asset_detail": (
        "GET",
        url("retrieval:asset_detail", ASSET),
        "L 200 200 200 200 200 200",
    ),
    "retrieval:asset_file": (
        "GET",
        lambda w: reverse("retrieval:asset_file", args=[w.asset.pk, "file"]),
        "L 200 200 200 200 200 200",
    ),
    "retrieval:asset_upload": (
        "POST",
        url("retrieval:asset_upload", IP_SLUG),
        "L 403 403 403 403 302 302",
    ),
    "retrieval:asset_restore": (
        "POST",
        url("retrieval:asset_restore", ASSET),
        "L 403 403 403 403 302 302",
    ),
    # Teams: studio admins (here only the superuser) manage who is on an IP.
    "retrieval:team": ("GET", url("retrieval:team", IP_SLUG), "L 403 403 403 403 403 200"),
    # An invitation link works without an account; a made-up one is gone for everyone.
    "teams:accept": (
        "GET",
        lambda w: reverse("teams:accept", args=["not-a-real-invitation"]),
        "410 410 410 410 410 410 410",
    ),
    # Briefs: producers see their own, directors all; catalog admins none.
    "briefs:list": ("GET", url("briefs:list"), "L 200 200 200 200 403 200"),
    "briefs:create": ("GET", url("briefs:create"), "L 200 200 403 403 403 200"),
    "briefs:detail": ("GET", url("briefs:detail", BRIEF), "L 200 404 200 200 403 200"),
    "briefs:live": ("GET", url("briefs:live", BRIEF), "L 200 404 200 200 403 200"),
    "briefs:cancel": ("POST", url("briefs:cancel", BRIEF), "L 302 404 403 403 403 302"),
    "briefs:retry": ("POST", url("briefs:retry", BRIEF), "L 302 404 403 403 403 302"),
    # The brief is past its plan gate: an empty plan is a form error (400), for those allowed.
    "briefs:plan": ("POST", url("briefs:plan", BRIEF), "L 400 404 400 400 403 400"),
    "briefs:take_media": ("GET", url("briefs:take_media", APPROVED), "L 200 404 200 200 404 200"),
    "briefs:take_poster": (
        "GET",
        url("briefs:take_poster", APPROVED),
        "L 200 404 200 200 404 200",
    ),
    "briefs:take_keyframe": ("GET", keyframe_url, "L 200 404 200 200 404 200"),
    # The board: directors decide; the brief's producer watches, notes and exports.
    "review:queue": ("GET", url("review:queue"), "L 403 403 200 200 403 200"),
    "review:board": ("GET", url("review:board", BRIEF), "L 200 404 200 200 403 200"),
    "review:board_changes": (
        "GET",
        url("review:board_changes", BRIEF),
        "L 204 404 204 204 403 204",
    ),
    "review:shot_card": ("GET", url("review:shot_card", READY_SHOT), "L 200 404 200 200 403 200"),
    "review:export": ("GET", url("review:export", BRIEF), "L 200 404 200 200 403 200"),
    "review:compare": (
        "GET",
        lambda w: reverse("review:compare") + f"?a={w.approved.pk}&b={w.ready.pk}",
        "L 200 404 200 200 403 200",
    ),
    "review:bulk_decide": (
        "POST",
        url("review:bulk_decide", BRIEF),
        "L 403 403 302 302 403 302",
    ),
    # Empty forms: those allowed are sent back to the board with the form's error.
    "review:decide": ("POST", url("review:decide", READY), "L 403 403 302 302 403 302"),
    "review:add_note": ("POST", url("review:add_note", READY), "L 302 404 302 302 403 302"),
    "review:reprompt": ("GET", url("review:reprompt", READY), "L 403 403 200 200 403 200"),
    "review:make_current": (
        "POST",
        url("review:make_current", APPROVED),
        "L 403 403 302 302 403 302",
    ),
    # The sequence player and the approved cut: whoever may see the board.
    "review:sequence": ("GET", url("review:sequence", BRIEF), "L 200 404 200 200 403 200"),
    "review:continuity": ("GET", url("review:continuity", BRIEF), "L 200 404 200 200 403 200"),
    "review:continuity_measure": (
        "POST",
        url("review:continuity_measure", BRIEF),
        "L 302 404 302 302 403 302",
    ),
    "review:cut_request": ("POST", url("review:cut_request", BRIEF), "L 302 404 302 302 403 302"),
    "review:cut_status": ("GET", url("review:cut_status", BRIEF), "L 200 404 200 200 403 200"),
    "review:cut_file": (
        "GET",
        lambda w: reverse("review:cut_file", args=[ready_cut(w).pk]),
        "L 200 404 200 200 403 200",
    ),
    # Dailies sessions are a directors' tool.
    "review:dailies": ("GET", url("review:dailies"), "L 403 403 200 200 403 200"),
    "review:playlist": (
        "GET",
        lambda w: reverse("review:playlist", args=[playlist(w).pk]),
        "L 403 403 200 200 403 200",
    ),
    # Bring your own take: the brief's producer and directors; an empty form goes back.
    "review:upload_take": (
        "POST",
        url("review:upload_take", READY_SHOT),
        "L 302 404 302 302 403 302",
    ),
    # Promotion writes the catalog: catalog admins who can see the take (here: the superuser).
    "review:promote": ("POST", url("review:promote", APPROVED), "L 403 404 403 403 403 302"),
    # Client review links: whoever may see the brief makes and revokes them.
    "review:client_links": (
        "GET",
        url("review:client_links", BRIEF),
        "L 200 404 200 200 403 200",
    ),
    "review:client_link_revoke": (
        "POST",
        lambda w: reverse("review:client_link_revoke", args=[client_link(w)[0].pk]),
        "L 302 404 302 302 403 302",
    ),
    # Behind a link, being signed in grants nothing: the link's own viewer session does. Without
    # one, the page asks for a name (an empty one is a form error) and the rest is refused.
    "client_review:open": ("GET", client_url("client_review:open"), "200 200 200 200 200 200 200"),
    "client_review:note": ("POST", client_url("client_review:note"), "403 403 403 403 403 403 403"),
    "client_review:verdict": (
        "POST",
        client_url("client_review:verdict"),
        "403 403 403 403 403 403 403",
    ),
    "client_review:media": (
        "GET",
        client_url("client_review:media"),
        "403 403 403 403 403 403 403",
    ),
    "client_review:poster": (
        "GET",
        client_url("client_review:poster"),
        "403 403 403 403 403 403 403",
    ),
    # Reliability: figures of the briefs one may see; policies for the lead.
    "reliability:dashboard": ("GET", url("reliability:dashboard"), "L 200 200 200 200 403 200"),
    "reliability:csv": (
        "GET",
        lambda w: reverse("reliability:csv", args=["steps"]),
        "L 200 200 200 200 403 200",
    ),
    "reliability:trace": ("GET", url("reliability:trace", BRIEF), "L 200 404 200 200 403 200"),
    "reliability:policies": ("GET", url("reliability:policies"), "L 403 403 403 200 403 200"),
    "reliability:policy": ("GET", url("reliability:policy", POLICY), "L 403 403 403 200 403 200"),
    # Django's admin: staff only; within it, each model's own permissions.
    "admin:index": ("GET", url("admin:index"), "L L L L L 200 200"),
    "admin:retrieval_asset_changelist": (
        "GET",
        url("admin:retrieval_asset_changelist"),
        "L L L L L 200 200",
    ),
    "admin:integrations_webhookendpoint_changelist": (
        "GET",
        url("admin:integrations_webhookendpoint_changelist"),
        "L L L L L 403 200",
    ),
    # The API's own documents are public; its operations are in API_ROUTES.
    "api-v1:openapi-json": ("GET", url("api-v1:openapi-json"), "200 200 200 200 200 200 200"),
    "api-v1:openapi-view": ("GET", url("api-v1:openapi-view"), "200 200 200 200 200 200 200"),
}
# Named URL patterns not in PAGES, and why.
NOT_PAGES = {
    "api-v1:api-root": "ninja's namespace root, not a page",
}


def named_patterns(patterns=None, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace or ""]))
            names |= named_patterns(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def api_operation_names() -> set[str]:
    return (
        {name for name in named_patterns() if name.startswith("api-v1:")}
        - set(PAGES)
        - set(NOT_PAGES)
    )


def test_every_named_page_has_a_row_in_the_matrix():
    # Django's admin has its own permission system: one row per kind of admin page stands in.
    names = {n for n in named_patterns() if not n.startswith("admin:")}

    missing = names - set(PAGES) - set(NOT_PAGES) - api_operation_names()

    assert missing == set()
    assert api_operation_names() == {f"api-v1:{name}" for name in API_ROUTES}


def signed_in(client, user) -> None:
    if user is not None:
        client.force_login(user)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_given_each_role_when_it_opens_a_page_then_the_status_is_the_tables(client, name):
    method, path, cells = PAGES[name]
    world = access_world()
    answers = {}
    for role, expected in row(cells).items():
        client.logout()
        signed_in(client, world.users[role])
        # Each role meets the world as it was: what a POST changed is rolled back.
        with transaction.atomic():
            target = path(world)
            response = client.post(target) if method == "POST" else client.get(target)
            answers[role] = _outcome(response, expected)
            transaction.set_rollback(True)

    assert answers == row(cells), f"{method} {name}"


def _outcome(response, expected: str) -> str:
    status = response.status_code
    if status == 302 and response["Location"].startswith(
        (resolve_url(settings.LOGIN_URL), reverse("admin:login"))
    ):
        return "L"
    if expected == "pub" and status in (200, 503):
        return "pub"
    return str(status)


# --- API ------------------------------------------------------------------------------------------
def brief_payload(world: World) -> dict:
    return {
        "ip": world.ip.slug,
        "title": "Matrix teaser",
        "beat": "The lantern keeper walks the pier at dusk.",
        "shot_count": 1,
        "aspect_ratio": "16:9",
        "seconds_per_shot": 4,
        "territory": "GB",
        "release_date": (date.today() + timedelta(days=30)).isoformat(),
    }


#           operation: (method, path, body, expected per role); anonymous has no token: 401.
API_ROUTES: dict[str, tuple[str, Path, Callable[[World], dict] | None, str]] = {
    "search_assets": (
        "GET",
        lambda w: f"/api/v1/assets?ip={w.ip.slug}&q=pier",
        None,
        "401 200 200 200 200 200 200",
    ),
    "get_asset": (
        "GET",
        lambda w: f"/api/v1/assets/{w.asset.pk}",
        None,
        "401 200 200 200 200 200 200",
    ),
    "submit_brief": (
        "POST",
        lambda w: "/api/v1/briefs",
        brief_payload,
        "401 201 201 403 403 403 201",
    ),
    "list_briefs": ("GET", lambda w: "/api/v1/briefs", None, "401 200 200 200 200 200 200"),
    "brief_status": (
        "GET",
        lambda w: f"/api/v1/briefs/{w.brief.pk}",
        None,
        "401 200 404 200 200 404 200",
    ),
    "continuity": (
        "GET",
        lambda w: f"/api/v1/briefs/{w.brief.pk}/continuity",
        None,
        "401 200 404 200 200 403 200",
    ),
    "review_queue": ("GET", lambda w: "/api/v1/review/queue", None, "401 200 200 200 200 403 200"),
    "add_note": (
        "POST",
        lambda w: f"/api/v1/takes/{w.ready.pk}/notes",
        lambda w: {"body": "Hold on the lantern.", "timecode_start": 1},
        "401 201 404 201 201 403 201",
    ),
    "decide_take": (
        "POST",
        lambda w: f"/api/v1/takes/{w.ready.pk}/decision",
        lambda w: {"verdict": "approved", "expected_version": w.ready.version},
        "401 403 403 201 201 403 201",
    ),
    # Client review links: whoever may see the brief; catalog admins are no part of it.
    "list_review_links": (
        "GET",
        lambda w: f"/api/v1/briefs/{w.brief.pk}/review-links",
        None,
        "401 200 404 200 200 403 200",
    ),
    "create_review_link": (
        "POST",
        lambda w: f"/api/v1/briefs/{w.brief.pk}/review-links",
        lambda w: {"label": "Harbour Agency", "days": 7},
        "401 201 404 201 201 403 201",
    ),
    "revoke_review_link": (
        "POST",
        lambda w: f"/api/v1/review-links/{client_link(w)[0].pk}/revoke",
        None,
        "401 200 404 200 200 403 200",
    ),
    "list_client_verdicts": (
        "GET",
        lambda w: f"/api/v1/briefs/{w.brief.pk}/client-verdicts",
        None,
        "401 200 404 200 200 403 200",
    ),
    "promote_take": (
        "POST",
        lambda w: f"/api/v1/takes/{w.approved.pk}/promote",
        None,
        "401 403 403 403 403 404 201",
    ),
}


def test_every_api_operation_has_a_row_in_the_matrix():
    operations = {
        operation["operationId"].removeprefix("integrations_api_routes_")
        for item in api.get_openapi_schema()["paths"].values()
        for operation in item.values()
    }

    assert operations == set(API_ROUTES)


@pytest.mark.parametrize("name", sorted(API_ROUTES))
def test_given_each_role_when_it_calls_an_api_route_then_the_status_is_the_tables(
    client, token_for, name
):
    method, path, body, cells = API_ROUTES[name]
    world = access_world()
    answers = {}
    for role, user in world.users.items():
        headers = {"Authorization": f"Bearer {token_for(user)}"} if user else {}
        with transaction.atomic():
            data = body(world) if body else {}
            if method == "POST":
                response = client.post(
                    path(world), data, content_type="application/json", headers=headers
                )
            else:
                response = client.get(path(world), headers=headers)
            answers[role] = str(response.status_code)
            transaction.set_rollback(True)

    assert answers == row(cells), name


# --- MCP ------------------------------------------------------------------------------------------
#           tool: (arguments, expected per role); "ok", or the status the API gives for the refusal.
MCP_TOOLS: dict[str, tuple[Callable[[World], dict], str]] = {
    "search_assets": (
        lambda w: {"ip": w.ip.slug, "query": "pier"},
        "401 ok ok ok ok ok ok",
    ),
    "submit_brief": (
        lambda w: {
            **brief_payload(w),
            "release_date": date.today() + timedelta(days=30),
        },
        "401 ok ok 403 403 403 ok",
    ),
    "brief_status": (lambda w: {"brief_id": w.brief.pk}, "401 ok 404 ok ok 404 ok"),
    "brief_continuity": (lambda w: {"brief_id": w.brief.pk}, "401 ok 404 ok ok 403 ok"),
    "review_queue": (lambda w: {}, "401 ok ok ok ok 403 ok"),
    "add_note": (
        lambda w: {"take_id": w.ready.pk, "body": "Hold on the lantern.", "timecode_start": 1},
        "401 ok 404 ok ok 403 ok",
    ),
    "decide_take": (
        lambda w: {"take_id": w.ready.pk, "verdict": "approved", "expected_version": 1},
        "401 403 403 ok ok 403 ok",
    ),
    "promote_take": (lambda w: {"take_id": w.approved.pk}, "401 403 403 403 403 404 ok"),
    "list_review_links": (lambda w: {"brief_id": w.brief.pk}, "401 ok 404 ok ok 403 ok"),
    "create_review_link": (
        lambda w: {"brief_id": w.brief.pk, "label": "Harbour Agency"},
        "401 ok 404 ok ok 403 ok",
    ),
    "revoke_review_link": (
        lambda w: {"link_id": client_link(w)[0].pk},
        "401 ok 404 ok ok 403 ok",
    ),
    "list_client_verdicts": (lambda w: {"brief_id": w.brief.pk}, "401 ok 404 ok ok 403 ok"),
}


def test_every_mcp_tool_has_a_row_in_the_matrix():
    tools = {tool.name for tool in mcp_server.server._tool_manager.list_tools()}

    assert tools == set(MCP_TOOLS)


def _tool_outcome(ok: bool, message: str) -> str:
    if ok:
        return "ok"
    if "API token" in message:
        return "401"
    if "that you can see" in message:
        return "404"
    if "may do this" in message or "may put takes" in message or "no Studio role" in message:
        return "403"
    return message


@pytest.mark.parametrize("name", sorted(MCP_TOOLS))
def test_given_each_role_when_it_calls_an_mcp_tool_then_the_outcome_is_the_tables(call_tool, name):
    arguments, cells = MCP_TOOLS[name]
    world = access_world()
    answers = {}
    for role, user in world.users.items():
        with transaction.atomic():
            ok, result = call_tool(user, name, **arguments(world))
            answers[role] = _tool_outcome(ok, str(result))
            transaction.set_rollback(True)

    assert answers == row(cells), name
