"""Factories for the briefs app: briefs, shots and takes with real clips."""

from datetime import date, timedelta

import factory
from django.core.files.base import ContentFile

from briefs.models import Brief, Shot, Take
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
