"""The studio's IP catalog: IPs, characters, assets with versions and rights."""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse
from pgvector.django import VectorField


class IP(models.Model):
    """A piece of intellectual property the studio owns: a world with its own look."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    logline = models.TextField(blank=True)
    style_notes = models.TextField(blank=True)
    palette = ArrayField(
        models.CharField(max_length=7), default=list, blank=True, help_text="Hex colours, #rrggbb"
    )
    required_approvals = models.PositiveSmallIntegerField(
        default=1,
        help_text="Approvals from different creative directors before a shot counts as approved",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "IP"
        verbose_name_plural = "IPs"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(required_approvals__gte=1, required_approvals__lte=5),
                name="ip_required_approvals_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("retrieval:ip_detail", args=[self.slug])


class Character(models.Model):
    ip = models.ForeignKey(IP, on_delete=models.CASCADE, related_name="characters")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    description = models.TextField(blank=True)
    visual_traits = models.TextField(blank=True)

    class Meta:
        ordering = ["ip", "name"]
        constraints = [
            models.UniqueConstraint(fields=["ip", "slug"], name="character_unique_slug_per_ip")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.ip})"


def asset_upload_path(asset: "Asset", filename: str) -> str:
    return f"assets/{asset.ip_id}/{asset.family}/v{asset.version}/{filename}"


def asset_thumbnail_path(asset: "Asset", filename: str) -> str:
    return f"assets/{asset.ip_id}/{asset.family}/v{asset.version}/thumb-{filename}"


class Asset(models.Model):
    """One version of a catalog file; versions of the same asset share a family."""

    class Kind(models.TextChoices):
        STILL = "still", "Still"
        CLIP = "clip", "Clip"
        STYLE_FRAME = "style_frame", "Style frame"
        STYLE_GUIDE = "style_guide", "Style-guide text"
        LOGO = "logo", "Logo"

    class Source(models.TextChoices):
        UPLOAD = "upload", "Upload"
        GENERATED = "generated", "Generated from a take"

    ip = models.ForeignKey(IP, on_delete=models.PROTECT, related_name="assets")
    characters = models.ManyToManyField(Character, blank=True, related_name="assets")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    tags = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    caption = models.TextField(blank=True)

    file = models.FileField(upload_to=asset_upload_path, max_length=500)
    mime_type = models.CharField(max_length=100)
    byte_size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    thumbnail = models.ImageField(upload_to=asset_thumbnail_path, max_length=500, blank=True)
    palette = ArrayField(models.CharField(max_length=7), default=list, blank=True)

    family = models.UUIDField(default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(default=1)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="next_versions"
    )
    is_current = models.BooleanField(default=True)

    source = models.CharField(max_length=20, choices=Source.choices, default=Source.UPLOAD)
    # Where a generated asset came from: brief, shot, take ids and the references it used.
    provenance = models.JSONField(default=dict, blank=True)
    # Weighted tsvector over title, tags, characters, IP, description and caption; kept by
    # services.asset_search_document_refresh because characters live in another table.
    search_document = SearchVectorField(null=True, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ip", "title", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["family", "version"], name="asset_unique_version"),
            models.UniqueConstraint(
                fields=["family"],
                condition=models.Q(is_current=True),
                name="asset_one_current_version",
            ),
        ]
        indexes = [
            models.Index(fields=["sha256"], name="asset_sha256_dedupe_idx"),
            models.Index(fields=["ip", "kind"], name="asset_ip_kind_idx"),
            GinIndex(fields=["search_document"], name="asset_search_document_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    def get_absolute_url(self) -> str:
        return reverse("retrieval:asset_detail", args=[self.pk])


class Rights(models.Model):
    """What the studio may do with an asset, where and when."""

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="rights")
    holder = models.CharField(max_length=200)
    licence = models.CharField(max_length=200)
    worldwide = models.BooleanField(default=False)
    territories = ArrayField(
        models.CharField(max_length=2), default=list, blank=True, help_text="ISO 3166-1 alpha-2"
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    reference_use_allowed = models.BooleanField(
        default=True, help_text="May generation use this asset as a reference?"
    )
    notes = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "rights"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="rights_valid_range",
            ),
            models.CheckConstraint(
                condition=models.Q(worldwide=True) | ~models.Q(territories=[]),
                name="rights_worldwide_or_territories",
            ),
        ]
        # The rights filter is "worldwide OR territories @> [x]": one index per arm, so a
        # filter passing few rows is found by a bitmap OR instead of reading every row.
        indexes = [
            GinIndex(fields=["territories"], name="rights_territories_idx"),
            models.Index(
                fields=["asset"], condition=models.Q(worldwide=True), name="rights_worldwide_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.licence} ({self.holder})"


class EmbeddingSpace(models.Model):
    """One embedding model at one dimension; search reads the single active space.

    A re-embed builds a new space beside the active one and switches over only once every
    current asset has a vector in it, so search never runs on a half-filled space.
    """

    model = models.CharField(max_length=200)
    dimensions = models.PositiveIntegerField()
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model", "dimensions"], name="embedding_space_unique_model_dimensions"
            ),
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="embedding_space_one_active",
            ),
            models.CheckConstraint(
                condition=models.Q(dimensions__gte=1, dimensions__lte=2000),
                name="embedding_space_hnsw_dimensions",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} ({self.dimensions}-d)"

    @property
    def index_name(self) -> str:
        return f"asset_embedding_space_{self.pk}_hnsw"


class AssetEmbedding(models.Model):
    """An asset's vector in one space, with a hash of the text it was made from."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="embeddings")
    space = models.ForeignKey(EmbeddingSpace, on_delete=models.CASCADE, related_name="embeddings")
    # No fixed dimension: each space gets a partial HNSW index on vector::vector(N).
    vector = VectorField()
    text_sha256 = models.CharField(max_length=64)
    embedded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["asset", "space"], name="asset_embedding_one_per_space")
        ]

    def __str__(self) -> str:
        return f"{self.asset} in {self.space}"
