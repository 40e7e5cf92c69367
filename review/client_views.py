"""Client review links: the producer's list of a brief's links, and the public pages behind one.

The public pages answer only for a live link's own shots: a token that was never made is a 404,
a revoked or expired link a 410 that says so, too many requests a friendly 429. Who the viewer is
(their name, and that they gave the password) is kept in the session, per link.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from briefs.models import Take
from briefs.streaming import ranged_file_response
from review import client_links
from review.client_links import ClientLinkError, Visitor
from review.forms import ClientGateForm, ClientNoteForm, ClientVerdictForm, ReviewLinkForm
from review.models import ClientVerdict, ReviewLink, ReviewLinkEvent
from studio.proxies import client_ip
from studio.roles import Role, role_required

SESSION_KEY = "client_review_links"


# --- The producer's side ------------------------------------------------------------------------
@role_required(Role.PRODUCER, Role.CREATIVE_DIRECTOR)
@require_http_methods(["GET", "POST"])
def client_links_page(request: HttpRequest, brief_id: int) -> HttpResponse:
    """List a brief's client links with their log; on POST make one and show its URL this once."""
    brief = get_object_or_404(client_links.shareable_briefs(request.user), pk=brief_id)
    shots = list(brief.shots.order_by("order"))
    form = ReviewLinkForm(
        request.POST or None,
        shots=shots,
        default_days=settings.REVIEW_LINK_DEFAULT_DAYS,
        max_days=settings.REVIEW_LINK_MAX_DAYS,
    )
    new_url = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            link, token = client_links.link_create(
                brief=brief,
                user=request.user,
                label=data["label"],
                expires_at=timezone.now() + timedelta(days=data["days"]),
                password=data["password"],
                shot_ids=[int(pk) for pk in data["shots"]],
                watermark=data["watermark"],
            )
        except ClientLinkError as error:
            form.add_error(None, str(error))
        else:
            new_url = request.build_absolute_uri(reverse("client_review:open", args=[token]))
            messages.success(request, f"Review link for “{link.label}” made. Copy it now.")
            form = ReviewLinkForm(
                shots=shots,
                default_days=settings.REVIEW_LINK_DEFAULT_DAYS,
                max_days=settings.REVIEW_LINK_MAX_DAYS,
            )
    context = {
        "brief": brief,
        "form": form,
        "new_url": new_url,
        "links": client_links.brief_links(brief=brief),
        "now": timezone.now(),
    }
    return render(request, "review/client_links.html", context, status=400 if form.errors else 200)


@role_required(Role.PRODUCER, Role.CREATIVE_DIRECTOR)
@require_POST
def client_link_revoke(request: HttpRequest, link_id: int) -> HttpResponse:
    """Revoke a client link: its URL says so from the next request on."""
    link = get_object_or_404(
        ReviewLink.objects.filter(brief__in=client_links.shareable_briefs(request.user)),
        pk=link_id,
    )
    client_links.link_revoke(link=link, user=request.user)
    messages.success(request, f"Review link for “{link.label}” revoked.")
    return redirect("review:client_links", brief_id=link.brief_id)


# --- The client's side --------------------------------------------------------------------------
class _Refused(Exception):
    """The link cannot serve this request; carries the page that says why."""

    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _visitor(request: HttpRequest, name: str = "") -> Visitor:
    return Visitor(
        name=name,
        ip_address=client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
    )


def _viewer_name(request: HttpRequest, link: ReviewLink) -> str:
    """Return the name this browser gave for the link (after its password), or ""."""
    return request.session.get(SESSION_KEY, {}).get(str(link.pk), {}).get("name", "")


def _remember_viewer(request: HttpRequest, link: ReviewLink, name: str) -> None:
    viewers = request.session.get(SESSION_KEY, {})
    viewers[str(link.pk)] = {"name": name}
    request.session[SESSION_KEY] = viewers
    # A fresh session key once the viewer is known, as Django's login does.
    request.session.cycle_key()


def _notice(request: HttpRequest, *, title: str, message: str, status: int) -> HttpResponse:
    return render(
        request, "review/client_notice.html", {"title": title, "message": message}, status=status
    )


def _open_link(request: HttpRequest, token: str) -> ReviewLink:
    """Return the live link a token opens; 404 for an unknown token, 410 for a closed link."""
    link = client_links.link_for_token(token)
    if link is None:
        raise Http404("No such review link.")
    closed = client_links.closed_message(link)
    if closed:
        raise _Refused(_notice(request, title="Review link closed", message=closed, status=410))
    return link


def _count(request: HttpRequest, link: ReviewLink, action: str) -> None:
    """Count the request against the link and address; past the limit, refuse with a 429."""
    visitor = _visitor(request, _viewer_name(request, link))
    decision = client_links.rate_limit_hit(link=link, ip_address=visitor.ip_address, action=action)
    if decision.allowed:
        return
    if decision.first_refusal:
        client_links.log_event(
            link=link, visitor=visitor, kind=ReviewLinkEvent.Kind.RATE_LIMITED, detail=action
        )
    minutes = max(1, round(decision.retry_after_s / 60))
    response = _notice(
        request,
        title="Please wait a moment",
        message=(
            "That was a lot of requests in a short time. "
            f"Please try again in about {minutes} minute{'s' if minutes != 1 else ''}."
        ),
        status=429,
    )
    response["Retry-After"] = str(decision.retry_after_s)
    raise _Refused(response)


def _live_link(request: HttpRequest, token: str, action: str) -> ReviewLink:
    """Return the live link a token opens, counting the request; raise with the page otherwise."""
    link = _open_link(request, token)
    _count(request, link, action)
    return link


def _linked_take(link: ReviewLink, take_id: int) -> Take:
    take = client_links.linked_takes(link).select_related("shot").filter(pk=take_id).first()
    if take is None:
        raise Http404("This take is not part of the review.")
    return take


def _refusals(view):
    """Turn a _Refused raised by the view into its page."""

    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except _Refused as refused:
            response = refused.response
        response["X-Robots-Tag"] = "noindex, nofollow"
        response.setdefault("Cache-Control", "private, no-store")
        return response

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _page_url(token: str, shot_id: int | None = None) -> str:
    url = reverse("client_review:open", args=[token])
    return url + (f"#shot-{shot_id}" if shot_id else "")


@_refusals
@require_http_methods(["GET", "POST"])
def client_review(request: HttpRequest, token: str) -> HttpResponse:
    """Show the linked shots to a named viewer; first ask their name (and the password)."""
    gate = request.method == "POST"
    link = _open_link(request, token)
    _count(request, link, "password" if gate and link.has_password else "open")
    name = _viewer_name(request, link)
    if gate:
        form = ClientGateForm(request.POST, needs_password=link.has_password)
        if form.is_valid():
            if client_links.password_matches(link, form.cleaned_data.get("password", "")):
                _remember_viewer(request, link, form.cleaned_data["name"].strip())
                return redirect(_page_url(token))
            client_links.log_event(
                link=link,
                visitor=_visitor(request, form.cleaned_data["name"]),
                kind=ReviewLinkEvent.Kind.WRONG_PASSWORD,
            )
            form.add_error("password", "That password does not open this link.")
        return _gate(request, link, form, status=400)
    if not name:
        return _gate(request, link, ClientGateForm(needs_password=link.has_password))
    client_links.log_event(
        link=link, visitor=_visitor(request, name), kind=ReviewLinkEvent.Kind.OPENED
    )
    context = {
        "link": link,
        "token": token,
        "viewer": name,
        "shots": client_links.client_shots(link=link),
        "verdicts": ClientVerdict.Verdict.choices,
    }
    return render(request, "review/client_review.html", context)


def _gate(request: HttpRequest, link: ReviewLink, form: ClientGateForm, *, status: int = 200):
    return render(request, "review/client_gate.html", {"link": link, "form": form}, status=status)


def _require_viewer(request: HttpRequest, link: ReviewLink) -> str:
    name = _viewer_name(request, link)
    if not name:
        raise _Refused(
            _notice(
                request,
                title="Open the review first",
                message="Open the review link and tell us your name first.",
                status=403,
            )
        )
    return name


def _shot_response(
    request: HttpRequest, link: ReviewLink, token: str, take: Take, *, status: int = 200, **extra
) -> HttpResponse:
    """Answer htmx with the shot's refreshed card; a plain form post goes back to the page."""
    if request.htmx:
        shot = next(s for s in client_links.client_shots(link=link) if s.pk == take.shot_id)
        context = {
            "link": link,
            "token": token,
            "viewer": _viewer_name(request, link),
            "shot": shot,
            "verdicts": ClientVerdict.Verdict.choices,
            **extra,
        }
        return render(request, "review/client_review.html#client-shot", context, status=status)
    if extra.get("error"):
        messages.error(request, extra["error"])
    elif extra.get("flash"):
        messages.success(request, extra["flash"])
    return redirect(_page_url(token, take.shot_id))


@_refusals
@require_POST
def client_note(request: HttpRequest, token: str, take_id: int) -> HttpResponse:
    """Pin the viewer's note to a moment of a linked take."""
    link = _live_link(request, token, "note")
    name = _require_viewer(request, link)
    take = _linked_take(link, take_id)
    form = ClientNoteForm(request.POST)
    if not form.is_valid():
        error = "Write a note and give a time within the clip."
        return _shot_response(request, link, token, take, status=422, error=error)
    try:
        client_links.client_note_add(
            link=link,
            take=take,
            visitor=_visitor(request, name),
            body=form.cleaned_data["body"],
            timecode_start=form.cleaned_data["timecode_start"],
        )
    except ClientLinkError as error:
        return _shot_response(request, link, token, take, status=422, error=str(error))
    return _shot_response(request, link, token, take, flash="Note added. Thank you.")


@_refusals
@require_POST
def client_verdict(request: HttpRequest, token: str, take_id: int) -> HttpResponse:
    """Record the viewer's verdict on a linked take: approve, or request changes."""
    link = _live_link(request, token, "verdict")
    name = _require_viewer(request, link)
    take = _linked_take(link, take_id)
    form = ClientVerdictForm(request.POST)
    if not form.is_valid():
        return _shot_response(
            request, link, token, take, status=422, error="Approve, or request changes."
        )
    try:
        given = client_links.client_verdict_give(
            link=link,
            take=take,
            visitor=_visitor(request, name),
            verdict=form.cleaned_data["verdict"],
            comment=form.cleaned_data["comment"],
        )
    except ClientLinkError as error:
        return _shot_response(request, link, token, take, status=422, error=str(error))
    flash = f"Shot {take.shot.order}: {given.get_verdict_display().lower()}. Thank you."
    return _shot_response(request, link, token, take, flash=flash)


def _client_file(request: HttpRequest, token: str, take_id: int, field: str) -> HttpResponse:
    link = _live_link(request, token, "media")
    _require_viewer(request, link)
    stored = getattr(_linked_take(link, take_id), field)
    if not stored:
        raise Http404("This take has no media.")
    return ranged_file_response(request, stored.storage, stored.name)


@_refusals
@require_GET
def client_media(request: HttpRequest, token: str, take_id: int) -> HttpResponse:
    """Stream a linked take's clip to the link's viewer, with byte ranges so players can seek."""
    return _client_file(request, token, take_id, "media")


@_refusals
@require_GET
def client_poster(request: HttpRequest, token: str, take_id: int) -> HttpResponse:
    """Serve a linked take's poster frame to the link's viewer."""
    return _client_file(request, token, take_id, "poster")
