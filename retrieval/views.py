"""Catalog pages: read for the IP's team, write for its catalog admins; the team page."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.http import require_POST

from retrieval import selectors
from retrieval.forms import AssetUploadForm, RightsCheckForm, SearchForm
from retrieval.models import IP, Asset
from retrieval.services import AssetRejected, asset_ingest, asset_restore_version
from studio.roles import Role, role_required
from teams import services as teams
from teams.forms import InviteForm, MemberAddForm
from teams.selectors import has_ip_role, ip_members, is_studio_admin, pending_invitations

READERS = tuple(Role)


@role_required(*READERS)
def catalog(request: HttpRequest) -> HttpResponse:
    """Browse the studio's IP catalog."""
    return render(request, "retrieval/catalog.html", {"ips": selectors.catalog_ips(request.user)})


@role_required(*READERS)
def ip_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Show an IP's characters and asset grid, greyed where rights do not clear."""
    ip = _visible_ip(request, slug)
    check = RightsCheckForm(request.GET or None)
    territory, on_date = None, timezone.localdate()
    if check.is_valid():
        territory, on_date = check.cleaned_data["territory"], check.cleaned_data["on_date"]
    character = request.GET.get("character")
    assets = selectors.ip_assets(
        ip=ip, character=int(character) if character and character.isdigit() else None
    )
    cards = [
        {
            "asset": asset,
            "blocked": selectors.rights_block_reason(asset, territory=territory, on_date=on_date),
        }
        for asset in assets
    ]
    context = {
        "ip": ip,
        "characters": selectors.ip_characters(ip=ip),
        "cards": cards,
        "check": check,
        "territory": territory,
        "on_date": on_date,
        "cleared_count": sum(1 for card in cards if not card["blocked"]),
        "upload_form": AssetUploadForm(ip=ip) if _is_catalog_admin(request, ip) else None,
        "can_manage_team": is_studio_admin(request.user),
    }
    return render(request, "retrieval/ip_detail.html", context)


@role_required(*READERS)
def asset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one asset: preview, rights, versions and where it has been used."""
    try:
        asset = selectors.asset_detail(pk=pk, user=request.user)
    except Asset.DoesNotExist as exc:
        raise Http404("No such asset.") from exc
    today = timezone.localdate()
    usage = settings.CATALOG_ASSET_USAGE
    context = {
        "asset": asset,
        "usage": import_string(usage)(asset_id=asset.pk, user=request.user) if usage else [],
        "versions": selectors.asset_versions(asset=asset),
        "blocked": selectors.rights_block_reason(asset, territory=None, on_date=today),
        "is_admin": _is_catalog_admin(request, asset.ip),
        "upload_form": AssetUploadForm(ip=asset.ip, initial={"kind": asset.kind})
        if _is_catalog_admin(request, asset.ip)
        else None,
    }
    return render(request, "retrieval/asset_detail.html", context)


@role_required(*READERS)
def asset_file(request: HttpRequest, pk: int, part: str) -> FileResponse:
    """Serve an asset's file or thumbnail to signed-in readers (media is not public)."""
    asset = get_object_or_404(selectors.visible_assets(request.user), pk=pk)
    field = {"file": asset.file, "thumbnail": asset.thumbnail}.get(part)
    if not field:
        raise Http404("No such file.")
    mime = "image/webp" if part == "thumbnail" else asset.mime_type
    response = FileResponse(field.open("rb"), content_type=mime)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@role_required(*READERS)
def search(request: HttpRequest, slug: str) -> HttpResponse:
    """Search an IP's catalog; htmx requests get just the results list."""
    ip = _visible_ip(request, slug)
    form = SearchForm(request.GET or None, ip=ip)
    hits, searched = [], False
    if form.is_valid() and form.cleaned_data["q"].strip():
        data = form.cleaned_data
        searched = True
        hits = selectors.search_assets(
            ip=ip,
            query=data["q"],
            k=20,
            territory=data["territory"],
            on_date=data["on_date"],
            use=None if data["include_restricted"] else selectors.REFERENCE_USE,
            kinds=[data["kind"]] if data["kind"] else None,
            characters=[data["character"].pk] if data["character"] else None,
        )
        prefetch_related_objects([hit.asset for hit in hits], "characters")
    context = {"ip": ip, "form": form, "hits": hits, "searched": searched}
    template = "retrieval/search.html#results" if request.htmx else "retrieval/search.html"
    return render(request, template, context)


@require_POST
@role_required(Role.CATALOG_ADMIN)
def asset_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """Add an asset to an IP, or a new version when `replaces` names one."""
    ip = _visible_ip(request, slug, Role.CATALOG_ADMIN)
    replaces = None
    if request.POST.get("replaces"):
        replaces = get_object_or_404(Asset, pk=request.POST["replaces"], ip=ip)
    form = AssetUploadForm(request.POST, request.FILES, ip=ip)
    if form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        try:
            result = asset_ingest(
                ip=ip,
                kind=data["kind"],
                title=data["title"],
                file_name=upload.name,
                data=upload.read(),
                description=data["description"],
                tags=data["tags"],
                characters=list(data["characters"]),
                rights=form.rights(),
                created_by=request.user,
                replaces=replaces,
            )
        except AssetRejected as exc:
            form.add_error("file", exc.reason)
        else:
            if result.deduplicated:
                messages.info(request, f"Those exact bytes are already {result.asset}.")
            else:
                messages.success(request, f"Added {result.asset}.")
            return redirect(result.asset)
    for field, errors in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ").capitalize()
        for error in errors:
            messages.error(request, f"Not added. {label}: {error}")
    return redirect(replaces or ip)


@require_POST
@role_required(Role.CATALOG_ADMIN)
def asset_restore(request: HttpRequest, pk: int) -> HttpResponse:
    """Make an older version the current one again."""
    asset = get_object_or_404(selectors.visible_assets(request.user, Role.CATALOG_ADMIN), pk=pk)
    restored = asset_restore_version(asset=asset, restored_by=request.user)
    messages.success(request, f"{restored} is the current version again.")
    return redirect(restored)


def _visible_ip(request: HttpRequest, slug: str, *roles: Role) -> IP:
    """The IP by slug if the user is on its team (in one of `roles`); a 404 otherwise."""
    return get_object_or_404(selectors.visible_ips(request.user, *roles), slug=slug)


def _is_catalog_admin(request: HttpRequest, ip: IP) -> bool:
    return has_ip_role(request.user, ip.pk, Role.CATALOG_ADMIN)


def _studio_admin_required(view):
    """Let studio admins through; others get a 403 page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_studio_admin(request.user):
            raise PermissionDenied("Only studio admins manage teams.")
        return view(request, *args, **kwargs)

    return wrapped


@_studio_admin_required
def team(request: HttpRequest, slug: str) -> HttpResponse:
    """An IP's team: members and their roles, invitations out, and forms to change both."""
    ip = get_object_or_404(IP, slug=slug)
    forms = {"invite_form": InviteForm(prefix="invite"), "add_form": MemberAddForm(prefix="add")}
    if request.method == "POST":
        action = _TEAM_ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            raise Http404("No such team action.")
        try:
            done = action(request, ip, forms)
        except teams.TeamError as exc:
            messages.error(request, str(exc))
        else:
            if done:
                messages.success(request, done)
                return redirect("retrieval:team", slug=ip.slug)
    context = {
        "ip": ip,
        "members": ip_members(ip_id=ip.pk),
        "invitations": pending_invitations(ip_id=ip.pk),
        "now": timezone.now(),
        "invitation_hours": settings.INVITATION_MAX_AGE_HOURS,
        **forms,
    }
    status = 400 if any(form.errors for form in forms.values()) else 200
    return render(request, "retrieval/team.html", context, status=status)


# Each team action returns what it did (for the message), or "" when its form has errors.
def _invite(request: HttpRequest, ip: IP, forms: dict) -> str:
    form = forms["invite_form"] = InviteForm(request.POST, prefix="invite")
    if not form.is_valid():
        return ""
    sent = teams.invite(
        ip=ip,
        email=form.cleaned_data["email"],
        role=form.cleaned_data["role"],
        by=request.user,
        link_for=lambda token: request.build_absolute_uri(reverse("teams:accept", args=[token])),
    )
    return f"Invitation emailed to {sent.invitation.email}."


def _add(request: HttpRequest, ip: IP, forms: dict) -> str:
    form = forms["add_form"] = MemberAddForm(request.POST, prefix="add")
    if not form.is_valid():
        return ""
    person = _user_named(form.cleaned_data["username"])
    if person is None:
        form.add_error("username", "Nobody has that username or email.")
        return ""
    role = form.cleaned_data["role"]
    return f"Added {teams.member_add(ip=ip, user=person, role=role, by=request.user)}."


def _remove(request: HttpRequest, ip: IP, forms: dict) -> str:
    membership = get_object_or_404(ip_members(ip_id=ip.pk), pk=request.POST.get("membership"))
    teams.member_remove(membership=membership, by=request.user)
    return f"Removed {membership}."


def _withdraw(request: HttpRequest, ip: IP, forms: dict) -> str:
    invitation = get_object_or_404(
        pending_invitations(ip_id=ip.pk), pk=request.POST.get("invitation")
    )
    teams.invitation_revoke(invitation=invitation, by=request.user)
    return f"Withdrew the invitation to {invitation.email}."


_TEAM_ACTIONS = {"invite": _invite, "add": _add, "remove": _remove, "revoke": _withdraw}


def _user_named(name: str):
    users = get_user_model().objects.filter(is_active=True)
    return users.filter(username=name).first() or users.filter(email__iexact=name).first()
