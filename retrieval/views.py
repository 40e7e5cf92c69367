"""Catalog pages: read for every role, write for catalog admins only."""

from django.conf import settings
from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.http import require_POST

from retrieval import selectors
from retrieval.forms import AssetUploadForm, RightsCheckForm, SearchForm
from retrieval.models import IP, Asset
from retrieval.services import AssetRejected, asset_ingest, asset_restore_version
from studio.roles import Role, has_role, role_required

READERS = tuple(Role)


@role_required(*READERS)
def catalog(request: HttpRequest) -> HttpResponse:
    """Browse the studio's IP catalog."""
    return render(request, "retrieval/catalog.html", {"ips": selectors.catalog_ips()})


@role_required(*READERS)
def ip_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Show an IP's characters and asset grid, greyed where rights do not clear."""
    ip = get_object_or_404(IP, slug=slug)
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
        "upload_form": AssetUploadForm(ip=ip) if _is_catalog_admin(request) else None,
    }
    return render(request, "retrieval/ip_detail.html", context)


@role_required(*READERS)
def asset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one asset: preview, rights, versions and where it has been used."""
    try:
        asset = selectors.asset_detail(pk=pk)
    except Asset.DoesNotExist as exc:
        raise Http404("No such asset.") from exc
    today = timezone.localdate()
    usage = settings.CATALOG_ASSET_USAGE
    context = {
        "asset": asset,
        "usage": import_string(usage)(asset_id=asset.pk, user=request.user) if usage else [],
        "versions": selectors.asset_versions(asset=asset),
        "blocked": selectors.rights_block_reason(asset, territory=None, on_date=today),
        "is_admin": _is_catalog_admin(request),
        "upload_form": AssetUploadForm(ip=asset.ip, initial={"kind": asset.kind})
        if _is_catalog_admin(request)
        else None,
    }
    return render(request, "retrieval/asset_detail.html", context)


@role_required(*READERS)
def asset_file(request: HttpRequest, pk: int, part: str) -> FileResponse:
    """Serve an asset's file or thumbnail to signed-in readers (media is not public)."""
    asset = get_object_or_404(Asset, pk=pk)
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
    ip = get_object_or_404(IP, slug=slug)
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
    ip = get_object_or_404(IP, slug=slug)
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
    asset = get_object_or_404(Asset, pk=pk)
    restored = asset_restore_version(asset=asset, restored_by=request.user)
    messages.success(request, f"{restored} is the current version again.")
    return redirect(restored)


def _is_catalog_admin(request: HttpRequest) -> bool:
    return has_role(request.user, Role.CATALOG_ADMIN)
