"""The API's endpoints: parse, call one shared operation, return its schema.

Authentication is a personal API token as a bearer token; each call counts against the token's
rate limit. Every error is JSON `{"detail": "..."}` with the status that says what went wrong.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Query, Status
from ninja.errors import ValidationError
from ninja.security import HttpBearer
from pydantic import Field

from integrations.api import operations, schemas
from integrations.api.schemas import ObjectId, Slug, Territory
from integrations.tokens import token_authenticate, token_record_call

ERRORS = {
    400: schemas.Error,
    401: schemas.Error,
    403: schemas.Error,
    404: schemas.Error,
    422: schemas.Error,
    429: schemas.Error,
}
Limit = Annotated[int, Field(ge=1, le=100, description="Items per page (1-100)")]
Offset = Annotated[int, Field(ge=0, le=schemas.MAX_OFFSET, description="Items to skip")]
BriefStatus = Literal[
    "queued",
    "retrieving",
    "planning",
    "awaiting_plan",
    "generating",
    "in_review",
    "needs_attention",
    "completed",
    "cancelled",
    "failed",
]


class RateLimited(Exception):
    """The token used up its calls for this window."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"Rate limit reached; retry in {retry_after_s} s.")
        self.retry_after_s = retry_after_s


class TokenAuth(HttpBearer):
    """A personal API token sent as `Authorization: Bearer studio_...`."""

    def authenticate(self, request: HttpRequest, token: str):
        api_token = token_authenticate(token)
        if api_token is None:
            return None
        decision = token_record_call(token=api_token)
        if not decision.allowed:
            raise RateLimited(decision.retry_after_s)
        request.user = api_token.user
        request.api_token = api_token
        return api_token.user


api = NinjaAPI(
    title="Studio API",
    version="1",
    description=(
        "Search the catalog, submit briefs, follow them, and review takes, with a personal API "
        "token acting as its user. Guide: docs/api.md."
    ),
    urls_namespace="api-v1",
    auth=TokenAuth(),
)


@api.exception_handler(operations.ApiError)
def api_error(request: HttpRequest, exc: operations.ApiError) -> HttpResponse:
    return api.create_response(request, {"detail": exc.detail}, status=exc.status)


@api.exception_handler(RateLimited)
def rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = api.create_response(request, {"detail": str(exc)}, status=429)
    response["Retry-After"] = str(exc.retry_after_s)
    return response


@api.exception_handler(ValidationError)
def invalid_input(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = [
        ".".join(str(part) for part in error.get("loc", ())) + ": " + str(error.get("msg", ""))
        for error in exc.errors
    ]
    return api.create_response(
        request,
        {"detail": "Invalid input. " + "; ".join(problems[:5]), "errors": exc.errors},
        status=422,
    )


@api.get("/assets", response={200: schemas.Page[schemas.AssetHitOut], **ERRORS}, tags=["catalog"])
def search_assets(
    request: HttpRequest,
    ip: Slug,
    q: Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[^\x00]*$")],
    territory: Territory | None = None,
    on_date: date | None = None,
    use: Literal["reference", "any"] = "reference",
    kind: Annotated[list[schemas.AssetKind] | None, Query(max_length=5)] = None,
    limit: Limit = 10,
    offset: Annotated[int, Field(ge=0, le=200)] = 0,
):
    """Search an IP's rights-cleared assets (vector + full text); rights checked at territory
    and date (worldwide and today by default); `use=reference` also needs reference use."""
    return operations.search_assets(
        user=request.auth,
        ip=ip,
        query=q,
        territory=territory,
        on_date=on_date,
        use=use,
        kinds=kind,
        limit=limit,
        offset=offset,
    )


@api.get("/assets/{asset_id}", response={200: schemas.AssetOut, **ERRORS}, tags=["catalog"])
def get_asset(request: HttpRequest, asset_id: ObjectId):
    """Get one asset with its rights."""
    return operations.get_asset(user=request.auth, asset_id=asset_id)


@api.post("/briefs", response={201: schemas.BriefOut, **ERRORS}, tags=["briefs"])
def submit_brief(request: HttpRequest, payload: schemas.BriefIn):
    """Submit a brief (producers); the pipeline starts straight away."""
    return Status(201, operations.submit_brief(user=request.auth, data=payload))


@api.get("/briefs", response={200: schemas.Page[schemas.BriefOut], **ERRORS}, tags=["briefs"])
def list_briefs(
    request: HttpRequest, status: BriefStatus | None = None, limit: Limit = 20, offset: Offset = 0
):
    """List the briefs you may see (producers: their own; directors: all), newest first."""
    return operations.list_briefs(user=request.auth, status=status, limit=limit, offset=offset)


@api.get("/briefs/{brief_id}", response={200: schemas.BriefDetailOut, **ERRORS}, tags=["briefs"])
def brief_status(request: HttpRequest, brief_id: ObjectId):
    """Get a brief's status, its shots and each shot's current take."""
    return operations.brief_status(user=request.auth, brief_id=brief_id)


@api.get(
    "/briefs/{brief_id}/continuity",
    response={200: schemas.ContinuityOut, **ERRORS},
    tags=["briefs"],
)
def continuity(request: HttpRequest, brief_id: ObjectId):
    """Get a brief's continuity: each shot's palette and light, each shot pair's drift."""
    return operations.continuity(user=request.auth, brief_id=brief_id)


@api.get(
    "/review/queue", response={200: schemas.Page[schemas.QueueItemOut], **ERRORS}, tags=["review"]
)
def review_queue(
    request: HttpRequest,
    ip: Slug | None = None,
    brief: ObjectId | None = None,
    status: Literal["ready", "routed"] | None = None,
    limit: Limit = 20,
    offset: Offset = 0,
):
    """List current takes waiting for a director: routed ones first, then oldest ready first."""
    return operations.review_queue(
        user=request.auth,
        ip=ip or "",
        brief_id=brief,
        status=status or "",
        limit=limit,
        offset=offset,
    )


@api.post("/takes/{take_id}/notes", response={201: schemas.NoteOut, **ERRORS}, tags=["review"])
def add_note(request: HttpRequest, take_id: ObjectId, payload: schemas.NoteIn):
    """Pin a note to a moment or range of a take (producers and directors)."""
    return Status(201, operations.add_note(user=request.auth, take_id=take_id, data=payload))


@api.post(
    "/takes/{take_id}/decision",
    response={201: schemas.DecisionOut, 409: schemas.Error, **ERRORS},
    tags=["review"],
)
def decide_take(request: HttpRequest, take_id: ObjectId, payload: schemas.DecisionIn):
    """Approve or reject a take (directors). Send the version you saw; 409 if it moved on."""
    return Status(201, operations.decide_take(user=request.auth, take_id=take_id, data=payload))


@api.post(
    "/takes/{take_id}/promote",
    response={201: schemas.AssetOut, 409: schemas.Error, **ERRORS},
    tags=["review"],
)
def promote_take(request: HttpRequest, take_id: ObjectId):
    """Put an approved take into the catalog as a clip with derived rights (catalog admins)."""
    return Status(201, operations.promote_take(user=request.auth, take_id=take_id))


@api.get(
    "/briefs/{brief_id}/review-links",
    response={200: list[schemas.ReviewLinkOut], **ERRORS},
    tags=["client review"],
)
def list_review_links(request: HttpRequest, brief_id: ObjectId):
    """List a brief's client review links with opens, notes and verdicts (producers, directors)."""
    return operations.list_review_links(user=request.auth, brief_id=brief_id)


@api.post(
    "/briefs/{brief_id}/review-links",
    response={201: schemas.ReviewLinkCreatedOut, **ERRORS},
    tags=["client review"],
)
def create_review_link(request: HttpRequest, brief_id: ObjectId, payload: schemas.ReviewLinkIn):
    """Make a client review link; the response's `path` holds the token, shown only this once."""
    return Status(
        201, operations.create_review_link(user=request.auth, brief_id=brief_id, data=payload)
    )


@api.post(
    "/review-links/{link_id}/revoke",
    response={200: schemas.ReviewLinkOut, **ERRORS},
    tags=["client review"],
)
def revoke_review_link(request: HttpRequest, link_id: ObjectId):
    """Revoke a client review link: from now on it says it was revoked."""
    return operations.revoke_review_link(user=request.auth, link_id=link_id)


@api.get(
    "/briefs/{brief_id}/client-verdicts",
    response={200: list[schemas.ClientVerdictOut], **ERRORS},
    tags=["client review"],
)
def list_client_verdicts(request: HttpRequest, brief_id: ObjectId):
    """List clients' verdicts on a brief's takes; they are opinions, never decisions."""
    return operations.list_client_verdicts(user=request.auth, brief_id=brief_id)
