"""Factories for the briefs app: briefs, shots and takes with real clips."""

import io
import random
from datetime import date, timedelta

import factory
from django.core.files.base import ContentFile

from briefs.models import Brief, Shot, Take
from retrieval import demo as catalog_demo
from studio.ai import media
from tests.factories.retrieval import IPFactory
from tests.factories.users import producer


class BriefFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brief

    ip = factory.SubFactory(IPFactory)
    producer = factory.LazyFunction(producer)
    title = factory.Sequence(lambda n: f"Harbour teaser {n}")
    beat = "The lantern keeper walks the pier at dusk, then the tide rolls in over the stones."
    tone = "calm"
    shot_count = 2
    aspect_ratio = Brief.AspectRatio.LANDSCAPE
    seconds_per_shot = 4
    territory = "GB"
    release_date = factory.LazyFunction(lambda: date.today() + timedelta(days=60))


class ShotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shot

    brief = factory.SubFactory(BriefFactory)
    order = factory.Sequence(lambda n: n + 1)
    prompt = "Wide shot: the lantern keeper on the pier at dusk."
    camera = "slow push-in"
    duration_s = 4
    status = Shot.Status.READY


def clip_bytes(*, duration_s: int = 4, aspect_ratio: str = "16:9") -> bytes:
    """Return a small real H.264 clip."""
    return media.render_clip(
        prompt="test clip",
        camera="pan right",
        duration_s=duration_s,
        aspect_ratio=aspect_ratio,
        seed=1,
        palette=("#1f6f8b", "#f5b942"),
        reference_images=(),
        fps=6,
        size_short_side=90,
    )


class TakeFactory(factory.django.DjangoModelFactory):
    """A ready, current take with a real clip and poster."""

    class Meta:
        model = Take

    class Params:
        video = factory.LazyFunction(clip_bytes)

    shot = factory.SubFactory(ShotFactory)
    number = 1
    prompt = factory.LazyAttribute(lambda o: o.shot.prompt)
    status = Take.Status.READY
    media = factory.LazyAttribute(lambda o: ContentFile(o.video, name="take.mp4"))
    poster = factory.LazyAttribute(
        lambda o: ContentFile(media.poster_png(o.video), name="poster.png")
    )
    byte_size = factory.LazyAttribute(lambda o: len(o.video))
    checks_passed = True
    confidence = 0.8


CONTINUITY_PALETTE = tuple(catalog_demo.IP_DATA["palette"])
_CAMERAS = ("slow push-in", "pan right", "pan left", "tilt up")


def character_clip(reference: str, *, seed: int, palette=CONTINUITY_PALETTE, camera: str) -> bytes:
    """Return a real clip moving over a character's reference, graded to `palette`."""
    return media.render_clip(
        prompt="Mira on the pier at dusk",
        camera=camera,
        duration_s=4,
        aspect_ratio="16:9",
        seed=seed,
        palette=palette,
        reference_images=[reference],
        fps=6,
        size_short_side=180,
    )


def _mira_art() -> bytes:
    """Return the demo catalog's drawing of Mira as a PNG (as retrieval.demo.seed draws it)."""
    out = io.BytesIO()
    catalog_demo.mira(random.Random(7)).save(out, format="PNG")
    return out.getvalue()


def continuity_brief(*, shots: int = 3, shifted: tuple[int, ...] = (), **brief_fields) -> Brief:
    """Create a brief in review whose shots all show one character, each with a ready take.

    The shots in `shifted` (by order) are graded to the complementary palette: drifted takes.
    """
    from tests.factories.retrieval import AssetFactory, CharacterFactory

    ip = IPFactory(palette=list(CONTINUITY_PALETTE))
    mira = CharacterFactory(ip=ip, name="Mira", slug="mira")
    reference = AssetFactory(ip=ip, title="Mira turnaround", image=_mira_art())
    reference.characters.set([mira])
    brief = BriefFactory(ip=ip, status=Brief.Status.IN_REVIEW, shot_count=shots, **brief_fields)
    brief.references.set([reference])
    for order in range(1, shots + 1):
        shot = ShotFactory(brief=brief, order=order)
        shot.characters.set([mira])
        shot.references.set([reference])
        palette = media.complementary_palette(CONTINUITY_PALETTE) if order in shifted else None
        video = character_clip(
            reference.file.path,
            seed=order,
            palette=palette or CONTINUITY_PALETTE,
            camera=_CAMERAS[order % len(_CAMERAS)],
        )
        take = TakeFactory(shot=shot, video=video, duration_s=4.0)
        take.references.set([reference])
    return brief
