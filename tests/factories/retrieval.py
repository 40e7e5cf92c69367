"""Factories for the retrieval app: IPs, characters, assets with rights, embedded assets."""

import hashlib
import io
from datetime import date

import factory
from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

from retrieval.models import IP, Asset, Character, Rights
from tests.factories.users import everyone_with_a_role_joins, join


def png_bytes(
    colour: str = "#1f6f8b", size: tuple[int, int] = (64, 48), accent: str = "#f5b942"
) -> bytes:
    """Return a small real PNG: a flat colour with an accent disc."""
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=accent)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _webp(image_bytes: bytes) -> bytes:
    from retrieval.validation import thumbnail_webp

    with Image.open(io.BytesIO(image_bytes)) as image:
        return thumbnail_webp(image.convert("RGB"))


class IPFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IP
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Test IP {n}")
    slug = factory.Sequence(lambda n: f"test-ip-{n}")
    logline = "A lantern-lit harbour town where the tide keeps secrets."
    style_notes = "Warm lantern light against deep teal water; soft painterly edges."
    palette = factory.LazyFunction(lambda: ["#0f3d4c", "#1f6f8b", "#f5b942", "#e8dcc2"])

    @factory.post_generation
    def team(self, create: bool, extracted, **kwargs) -> None:
        """Members as (user, role) pairs; by default everyone with a role (see factories.users)."""
        if not create:
            return
        if extracted is None:
            everyone_with_a_role_joins(self)
        else:
            for user, role in extracted:
                join(user, self, role)


class CharacterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Character

    ip = factory.SubFactory(IPFactory)
    name = factory.Sequence(lambda n: f"Character {n}")
    slug = factory.Sequence(lambda n: f"character-{n}")
    description = "A harbour regular."
    visual_traits = "Yellow oilskin coat, brass lantern."


class AssetFactory(factory.django.DjangoModelFactory):
    """A current, worldwide-cleared still with a real PNG; pass rights=None for no rights row."""

    class Meta:
        model = Asset
        skip_postgeneration_save = True

    class Params:
        image = factory.LazyFunction(png_bytes)

    ip = factory.SubFactory(IPFactory)
    kind = Asset.Kind.STILL
    title = factory.Sequence(lambda n: f"Reference still {n}")
    description = ""
    tags = factory.LazyFunction(list)
    file = factory.LazyAttribute(lambda o: ContentFile(o.image, name="still.png"))
    thumbnail = factory.LazyAttribute(lambda o: ContentFile(_webp(o.image), name="still.webp"))
    mime_type = "image/png"
    byte_size = factory.LazyAttribute(lambda o: len(o.image))
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.image).hexdigest())
    width = 64
    height = 48
    palette = factory.LazyFunction(lambda: ["#1f6f8b", "#f5b942"])
    rights = factory.RelatedFactory("tests.factories.retrieval.RightsFactory", "asset")

    @factory.post_generation
    def characters(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.characters.set(extracted)


class RightsFactory(factory.django.DjangoModelFactory):
    """Worldwide, open-ended, reference use allowed; replaces the asset's rights if it has some."""

    class Meta:
        model = Rights

    asset = factory.SubFactory(AssetFactory, rights=None)
    holder = "Studio"
    licence = "Studio-owned"
    worldwide = True
    territories = factory.LazyFunction(list)
    valid_from = date(2020, 1, 1)
    valid_until = None
    reference_use_allowed = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        asset = kwargs.pop("asset")
        rights, _ = model_class.objects.update_or_create(asset=asset, defaults=kwargs)
        asset.rights = rights
        return rights


def embedded_asset(**kwargs) -> Asset:
    """Create an asset and embed it synchronously (search finds it straight away)."""
    from retrieval.services import asset_embed

    asset = AssetFactory(**kwargs)
    asset_embed(asset_id=asset.pk)
    asset.refresh_from_db()
    return asset
