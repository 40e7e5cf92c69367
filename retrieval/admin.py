"""Django admin for catalog admins: thumbnails, inline rights, filters, bulk re-embed."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from retrieval.models import IP, Asset, AssetEmbedding, Character, EmbeddingSpace, Rights
from retrieval.services import asset_search_document_refresh
from retrieval.tasks import embed_asset
from studio.roles import Role
from teams import services as teams
from teams.models import Membership
from teams.selectors import ip_ids_for, is_studio_admin


class TeamScopedAdmin(admin.ModelAdmin):
    """Catalog admins see and edit only the IPs they are catalog admins on."""

    ip_lookup = "ip"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.filter(
            **{f"{self.ip_lookup}__in": ip_ids_for(request.user, Role.CATALOG_ADMIN)}
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "ip":
            kwargs["queryset"] = IP.objects.filter(
                pk__in=ip_ids_for(request.user, Role.CATALOG_ADMIN)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "ip"
    extra = 0
    fields = ["user", "role", "added_by", "created_at"]
    readonly_fields = ["added_by", "created_at"]


class CharacterInline(admin.TabularInline):
    model = Character
    extra = 0
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "description", "visual_traits"]


@admin.register(IP)
class IPAdmin(TeamScopedAdmin):
    ip_lookup = "pk"
    list_display = ["name", "slug", "palette_swatches", "required_approvals", "updated_at"]
    search_fields = ["name", "logline", "style_notes"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CharacterInline]

    def get_inlines(self, request, obj):
        # Only studio admins change who is on a team.
        return (
            [CharacterInline, MembershipInline]
            if is_studio_admin(request.user)
            else [CharacterInline]
        )

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            teams.creator_joins(ip=obj, user=request.user)

    @admin.display(description="Palette")
    def palette_swatches(self, ip: IP) -> str:
        # SVG's fill is an attribute, not a style, so the Content-Security-Policy allows it.
        swatch = (
            '<svg width="14" height="14" role="img"><title>{}</title>'
            '<rect width="14" height="14" fill="{}"/></svg> '
        )
        return format_html_join("", swatch, ((c, c) for c in ip.palette)) or "—"


@admin.register(Character)
class CharacterAdmin(TeamScopedAdmin):
    list_display = ["name", "ip"]
    list_filter = ["ip"]
    search_fields = ["name", "description", "visual_traits"]
    prepopulated_fields = {"slug": ["name"]}


class RightsInline(admin.StackedInline):
    model = Rights
    can_delete = False
    extra = 1
    max_num = 1


class RightsStatusFilter(admin.SimpleListFilter):
    title = "rights"
    parameter_name = "rights"

    def lookups(self, request, model_admin):
        return [
            ("none", "No rights recorded"),
            ("no_reference", "Reference use forbidden"),
            ("limited", "Territory-limited"),
            ("expired", "Expired"),
        ]

    def queryset(self, request, queryset):
        from django.utils import timezone

        today = timezone.localdate()
        return {
            "none": queryset.filter(rights__isnull=True),
            "no_reference": queryset.filter(rights__reference_use_allowed=False),
            "limited": queryset.filter(rights__worldwide=False),
            "expired": queryset.filter(rights__valid_until__lt=today),
        }.get(self.value(), queryset)


@admin.register(Asset)
class AssetAdmin(TeamScopedAdmin):
    list_display = [
        "thumbnail_tag",
        "title",
        "ip",
        "kind",
        "version",
        "is_current",
        "source",
        "embedded_in",
        "updated_at",
    ]
    list_display_links = ["thumbnail_tag", "title"]
    list_filter = ["ip", "kind", "is_current", "source", RightsStatusFilter, "characters"]
    search_fields = ["title", "description", "tags", "caption", "sha256"]
    list_select_related = ["ip"]
    filter_horizontal = ["characters"]
    inlines = [RightsInline]
    actions = ["reembed"]
    readonly_fields = [
        "thumbnail_tag",
        "file",
        "mime_type",
        "byte_size",
        "sha256",
        "width",
        "height",
        "duration_s",
        "palette",
        "family",
        "version",
        "previous",
        "is_current",
        "source",
        "provenance",
        "created_by",
        "created_at",
    ]
    fieldsets = [
        (None, {"fields": ["thumbnail_tag", "ip", "kind", "title", "description", "tags"]}),
        ("Search", {"fields": ["characters", "caption"]}),
        (
            "File (replace it with “Upload a new version” on the catalog page)",
            {
                "fields": [
                    "file",
                    "mime_type",
                    "byte_size",
                    "sha256",
                    ("width", "height", "duration_s"),
                    "palette",
                ]
            },
        ),
        (
            "Version and provenance",
            {"fields": ["family", "version", "previous", "is_current", "source", "provenance"]},
        ),
        (None, {"fields": ["created_by", "created_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("embeddings__space")

    def has_add_permission(self, request) -> bool:
        # New files come in through the validated upload form or import_catalog.
        return False

    @admin.display(description="Preview")
    def thumbnail_tag(self, asset: Asset) -> str:
        if not asset.thumbnail:
            return "—"
        url = reverse("retrieval:asset_file", args=[asset.pk, "thumbnail"])
        # The preview is the change link in the list, so its alt text is the link's name.
        return format_html('<img src="{}" alt="{}" height="48">', url, asset.title)

    @admin.display(description="Embedded in")
    def embedded_in(self, asset: Asset) -> str:
        return ", ".join(str(e.space) for e in asset.embeddings.all()) or "not yet"

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        # Characters are saved only now; the text index and vectors must follow the edit.
        asset_search_document_refresh(asset=form.instance)
        embed_asset.delay_on_commit(form.instance.pk)

    @admin.action(description="Re-embed selected assets")
    def reembed(self, request, queryset) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        # Forget the text hashes so the task re-embeds even though the text did not change.
        AssetEmbedding.objects.filter(asset_id__in=ids).update(text_sha256="")
        for asset_id in ids:
            embed_asset.delay_on_commit(asset_id)
        self.message_user(request, f"Queued {len(ids)} assets for embedding.", messages.SUCCESS)


@admin.register(EmbeddingSpace)
class EmbeddingSpaceAdmin(admin.ModelAdmin):
    list_display = ["model", "dimensions", "is_active", "created_at", "completed_at"]
    readonly_fields = ["model", "dimensions", "is_active", "created_at", "completed_at"]

    def has_add_permission(self, request) -> bool:
        return False
