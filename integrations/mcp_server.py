"""Studio's MCP server: the API's operations as tools, style guides and shot lists as resources.

It runs over stdio (`manage.py mcp`, the token from --token or STUDIO_API_TOKEN) and over
streamable HTTP at /mcp/ inside the ASGI site (studio/asgi.py), where every request carries
`Authorization: Bearer <token>`. Either way each call acts as the token's user, with the same
role checks as the JSON API, because both call integrations.api.operations.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http.request import split_domain_port, validate_host
from django.utils import timezone
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from pydantic import Field, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from integrations.api import operations, schemas
from integrations.models import ApiToken
from integrations.tokens import token_authenticate, token_record_call
from retrieval.selectors import visible_ips
from studio.roles import Role

# The ASGI scope key where the HTTP middleware leaves the authenticated token's id.
SCOPE_TOKEN_ID = "studio.api_token_id"
# Set once by `manage.py mcp`: the stdio transport has no request to carry a token.
STDIO_TOKEN: dict[str, str] = {}

T = TypeVar("T")

server = MCPServer(
    "studio",
    title="Studio",
    instructions=(
        "Studio turns briefs into reviewed video shots. Search an IP's rights-cleared catalog, "
        "submit briefs (producers), follow their status, list takes waiting for review, add "
        "timecoded notes, approve or reject takes (creative directors), and put approved takes "
        "into the catalog (catalog admins). Read an IP's style guide at "
        "studio://ips/{slug}/style-guide and a brief's shots at studio://briefs/{brief_id}/shots."
    ),
    version="1",
)


def _token_for(ctx: Context) -> ApiToken:
    """Return the live token this call acts with: the HTTP request's, or the stdio one."""
    request = ctx.request_context.request
    if request is not None:
        token_id = request.scope.get(SCOPE_TOKEN_ID)
        token = ApiToken.objects.select_related("user").filter(pk=token_id).first()
        if token is None or not token.is_active_at(timezone.now()) or not token.user.is_active:
            raise ToolError("The API token is no longer valid.")
        return token
    token = token_authenticate(STDIO_TOKEN.get("secret", ""))
    if token is None:
        raise ToolError("The API token is missing, expired or revoked.")
    decision = token_record_call(token=token)
    if not decision.allowed:
        raise ToolError(f"Rate limit reached; retry in {decision.retry_after_s} s.")
    return token


def _as_user(ctx: Context, operation: Callable[[Any], T]) -> T:
    """Run one operation as the token's user, in Django's per-request connection hygiene."""
    close_old_connections()
    try:
        user = _token_for(ctx).user
        return operation(user)
    except operations.ApiError as exc:
        raise ToolError(exc.detail) from exc
    except ValidationError as exc:
        problems = "; ".join(
            ".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in exc.errors()
        )
        raise ToolError(f"Invalid input: {problems}") from exc
    finally:
        close_old_connections()


READ = ToolAnnotations(readOnlyHint=True, openWorldHint=False)


@server.tool(annotations=READ)
def search_assets(
    ip: Annotated[schemas.Slug, Field(description="The IP's slug")],
    query: Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[^\x00]*$")],
    ctx: Context,
    territory: Annotated[
        schemas.Territory | None, Field(description="ISO 3166-1 alpha-2; none: worldwide")
    ] = None,
    on_date: date | None = None,
    use: Literal["reference", "any"] = "reference",
    limit: Annotated[int, Field(ge=1, le=50)] = 10,
) -> dict[str, Any]:
    """Search an IP's rights-cleared catalog assets (vector + full-text hybrid search)."""
    return _as_user(
        ctx,
        lambda user: operations.search_assets(
            user=user,
            ip=ip,
            query=query,
            territory=territory,
            on_date=on_date,
            use=use,
            limit=limit,
        ).model_dump(mode="json"),
    )


@server.tool(annotations=ToolAnnotations(readOnlyHint=False, openWorldHint=False))
def submit_brief(
    ip: Annotated[str, Field(description="The IP's slug")],
    title: str,
    beat: Annotated[str, Field(description="The script beat or visual prompt")],
    shot_count: Annotated[int, Field(ge=1, le=24)],
    aspect_ratio: Literal["16:9", "9:16"],
    seconds_per_shot: Literal[4, 6, 8],
    territory: Annotated[str, Field(description="ISO 3166-1 alpha-2 release territory")],
    release_date: date,
    ctx: Context,
    tone: str = "",
    negative_prompt: str = "",
    requires_plan_approval: bool = False,
    checklist: list[str] | None = None,
    sound: Annotated[
        Literal["dialogue", "ambience", "none"],
        Field(description="What the shots sound like: dialogue (over ambience), ambience, none"),
    ] = "ambience",
) -> dict[str, Any]:
    """Submit a brief as a producer; the pipeline starts straight away."""

    def submit(user):
        data = schemas.BriefIn(
            ip=ip,
            title=title,
            beat=beat,
            tone=tone,
            shot_count=shot_count,
            aspect_ratio=aspect_ratio,
            seconds_per_shot=seconds_per_shot,
            territory=territory,
            release_date=release_date,
            negative_prompt=negative_prompt,
            requires_plan_approval=requires_plan_approval,
            checklist=checklist or [],
            sound=sound,
        )
        return operations.submit_brief(user=user, data=data).model_dump(mode="json")

    return _as_user(ctx, submit)


@server.tool(annotations=READ)
def brief_status(brief_id: Annotated[int, Field(ge=1)], ctx: Context) -> dict[str, Any]:
    """Get a brief's status, its shots and each shot's current take (with its version)."""
    return _as_user(
        ctx,
        lambda user: operations.brief_status(user=user, brief_id=brief_id).model_dump(mode="json"),
    )


@server.tool(annotations=READ)
def brief_continuity(brief_id: Annotated[int, Field(ge=1)], ctx: Context) -> dict[str, Any]:
    """Get a brief's continuity: each shot's palette and light, each shot pair's drift by part."""
    return _as_user(
        ctx,
        lambda user: operations.continuity(user=user, brief_id=brief_id).model_dump(mode="json"),
    )


@server.tool(annotations=READ)
def review_queue(
    ctx: Context,
    ip: Annotated[str, Field(max_length=200, pattern=r"^[-a-zA-Z0-9_]*$")] = "",
    brief_id: Annotated[int | None, Field(ge=1)] = None,
    status: Literal["", "ready", "routed"] = "",
    limit: Annotated[int, Field(ge=1, le=100)] = 20,
    offset: Annotated[int, Field(ge=0, le=schemas.MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """List current takes waiting for a creative director: routed first, then oldest ready."""
    return _as_user(
        ctx,
        lambda user: operations.review_queue(
            user=user, ip=ip, brief_id=brief_id, status=status, limit=limit, offset=offset
        ).model_dump(mode="json"),
    )


@server.tool(annotations=ToolAnnotations(readOnlyHint=False, openWorldHint=False))
def add_note(
    take_id: Annotated[int, Field(ge=1)],
    body: str,
    timecode_start: Annotated[float, Field(ge=0, description="Seconds from the take's start")],
    ctx: Context,
    timecode_end: Annotated[float | None, Field(ge=0)] = None,
    about_sound: Annotated[bool, Field(description="The note is about what is heard")] = False,
) -> dict[str, Any]:
    """Pin a note to a moment (or a range) of a take, as a producer or a creative director."""

    def note(user):
        data = schemas.NoteIn(
            body=body,
            timecode_start=timecode_start,
            timecode_end=timecode_end,
            about_sound=about_sound,
        )
        return operations.add_note(user=user, take_id=take_id, data=data).model_dump(mode="json")

    return _as_user(ctx, note)


@server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False))
def decide_take(
    take_id: Annotated[int, Field(ge=1)],
    verdict: Literal["approved", "rejected"],
    expected_version: Annotated[int, Field(ge=1, description="The take version you looked at")],
    ctx: Context,
    reason: Literal[
        "",
        "off_brand",
        "character_inconsistency",
        "artefacts",
        "wrong_framing",
        "continuity",
        "rights_concern",
        "other",
    ] = "",
    reason_text: str = "",
) -> dict[str, Any]:
    """Approve or reject a take as a creative director; a reason is required to reject."""

    def decide(user):
        data = schemas.DecisionIn(
            verdict=verdict,
            expected_version=expected_version,
            reason=reason,
            reason_text=reason_text,
        )
        return operations.decide_take(user=user, take_id=take_id, data=data).model_dump(mode="json")

    return _as_user(ctx, decide)


@server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False))
def promote_take(take_id: Annotated[int, Field(ge=1)], ctx: Context) -> dict[str, Any]:
    """Put an approved take into the catalog as a clip with derived rights (catalog admins)."""
    return _as_user(
        ctx,
        lambda user: operations.promote_take(user=user, take_id=take_id).model_dump(mode="json"),
    )


@server.tool(annotations=READ)
def list_review_links(brief_id: Annotated[int, Field(ge=1)], ctx: Context) -> dict[str, Any]:
    """List a brief's client review links with their opens, notes and verdicts."""
    return _as_user(
        ctx,
        lambda user: {
            "items": [
                link.model_dump(mode="json")
                for link in operations.list_review_links(user=user, brief_id=brief_id)
            ]
        },
    )


@server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False))
def create_review_link(
    brief_id: Annotated[int, Field(ge=1)],
    label: Annotated[str, Field(min_length=1, max_length=200, description="Who it is for")],
    ctx: Context,
    days: Annotated[int, Field(ge=1, le=365, description="Days until it expires")] = 14,
    password: Annotated[str, Field(max_length=128, description="Optional")] = "",
    shot_ids: Annotated[list[int] | None, Field(description="Shots to share; none: all")] = None,
    watermark: bool = True,
) -> dict[str, Any]:
    """Make a client review link for a brief; the returned path holds its token, shown once."""

    def create(user):
        data = schemas.ReviewLinkIn(
            label=label,
            days=days,
            password=password,
            shot_ids=shot_ids or [],
            watermark=watermark,
        )
        return operations.create_review_link(user=user, brief_id=brief_id, data=data).model_dump(
            mode="json"
        )

    return _as_user(ctx, create)


@server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True))
def revoke_review_link(link_id: Annotated[int, Field(ge=1)], ctx: Context) -> dict[str, Any]:
    """Revoke a client review link at once: from then on it says it was revoked."""
    return _as_user(
        ctx,
        lambda user: operations.revoke_review_link(user=user, link_id=link_id).model_dump(
            mode="json"
        ),
    )


@server.tool(annotations=READ)
def list_client_verdicts(brief_id: Annotated[int, Field(ge=1)], ctx: Context) -> dict[str, Any]:
    """List clients' verdicts on a brief's takes (opinions through review links, not decisions)."""
    return _as_user(
        ctx,
        lambda user: {
            "items": [
                verdict.model_dump(mode="json")
                for verdict in operations.list_client_verdicts(user=user, brief_id=brief_id)
            ]
        },
    )


def _resource(ctx: Context, operation: Callable[[Any], Any]) -> str:
    try:
        return json.dumps(_as_user(ctx, operation), indent=2, default=str)
    except ToolError as exc:
        raise ResourceError(str(exc)) from exc


@server.resource(
    "studio://ips{?role}",
    name="ips",
    title="Your IPs and their style guides",
    mime_type="application/json",
)
def ip_index(ctx: Context, role: str = "") -> str:
    """List the IPs on your teams (optionally only where you hold `role`), with guide URIs."""

    def index(user: Any) -> list[dict]:
        roles = [r for r in Role if r.value == role or r.name.lower() == role.lower()]
        if role and not roles:
            raise operations.ApiError(400, f"Unknown role {role!r}; use one of {Role.values}.")
        slugs = visible_ips(user, *roles).order_by("slug").values_list("slug", flat=True)
        return [{"ip": s, "style_guide": f"studio://ips/{s}/style-guide"} for s in slugs]

    return _resource(ctx, index)


@server.resource(
    "studio://ips/{slug}/style-guide",
    name="style-guide",
    title="An IP's style guide",
    mime_type="application/json",
)
def style_guide(slug: str, ctx: Context) -> str:
    """An IP's look: logline, style notes, palette, characters and style-guide texts."""
    return _resource(ctx, lambda user: operations.style_guide(user=user, ip=slug))


@server.resource(
    "studio://briefs/{brief_id}/shots",
    name="shot-list",
    title="A brief's shot list",
    mime_type="application/json",
)
def shot_list(brief_id: str, ctx: Context) -> str:
    """A brief's shots in order, with prompts, statuses and current takes."""
    if not brief_id.isdigit() or not 1 <= int(brief_id) <= schemas.MAX_ID:
        raise ResourceError(f"No brief {brief_id}.")
    return _resource(ctx, lambda user: operations.shot_list(user=user, brief_id=int(brief_id)))


def run_stdio(secret: str) -> None:
    """Serve over stdin/stdout, acting with the given token."""
    STDIO_TOKEN["secret"] = secret
    server.run("stdio")


class BearerTokenGate:
    """ASGI middleware for the HTTP transport: allowed host, live token, rate limit.

    Host checking follows Django's ALLOWED_HOSTS (so the SDK's own localhost-only DNS-rebinding
    guard is off); the token is looked up once per request and its id handed to the tools.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        status, detail, extra = await self._check(headers)
        if status:
            await _json_response(send, status, {"detail": detail}, extra)
            return
        scope[SCOPE_TOKEN_ID] = extra["token_id"]
        await self.app(scope, receive, send)

    async def _check(self, headers: dict[str, str]) -> tuple[int, str, dict]:
        from django.conf import settings

        domain, _port = split_domain_port(headers.get("host", ""))
        allowed = settings.ALLOWED_HOSTS or (["localhost", "127.0.0.1", "[::1]"])
        if not domain or not validate_host(domain, allowed):
            return 400, "Host not allowed.", {}
        scheme, _, secret = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return 401, "Send a Studio API token: Authorization: Bearer <token>.", _challenge()
        token, decision = await sync_to_async(_authenticate_and_count)(secret.strip())
        if token is None:
            return 401, "The API token is missing, expired or revoked.", _challenge()
        if not decision.allowed:
            wait = str(decision.retry_after_s)
            return 429, f"Rate limit reached; retry in {wait} s.", {"retry-after": wait}
        return 0, "", {"token_id": token.pk}


def _authenticate_and_count(secret: str):
    close_old_connections()
    try:
        token = token_authenticate(secret)
        return token, token_record_call(token=token) if token else None
    finally:
        close_old_connections()


def _challenge() -> dict[str, str]:
    return {"www-authenticate": 'Bearer realm="studio"'}


async def _json_response(send: Send, status: int, body: dict, headers: dict[str, str]) -> None:
    content = json.dumps(body).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        *((k.encode(), v.encode()) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": content})


def http_app() -> ASGIApp:
    """Return the streamable-HTTP MCP app (serving settings.MCP_HTTP_PATH) behind the token gate.

    Stateless JSON responses, so any worker process of the site can answer any request.
    """
    app = server.streamable_http_app(
        streamable_http_path=settings.MCP_HTTP_PATH,
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return BearerTokenGate(app)
