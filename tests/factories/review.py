"""Factories for the review app: decisions, notes, and whole boards ready to review."""

from functools import lru_cache

import factory
from django.core.files.base import ContentFile

from briefs.models import Brief, Take
from review.models import Decision, Note
from studio.ai import media
from tests.factories.briefs import BriefFactory, ShotFactory, TakeFactory, clip_bytes
from tests.factories.retrieval import AssetFactory
from tests.factories.users import director


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    take = factory.SubFactory(TakeFactory)
    user = factory.LazyFunction(director)
    verdict = Decision.Verdict.APPROVED
    take_version = factory.LazyAttribute(lambda o: o.take.version)


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    take = factory.SubFactory(TakeFactory)
    user = factory.LazyFunction(director)
    body = "The lantern flickers out of sync with the waves."
    timecode_start = 1.5


@lru_cache(maxsize=4)
def shared_clip(duration_s: int = 4) -> tuple[bytes, bytes]:
    """Return one real clip and its poster, rendered once per test session."""
    video = clip_bytes(duration_s=duration_s)
    return video, media.poster_png(video)


def ready_take(*, shot, number: int = 1, references=(), **fields) -> Take:
    """Create a ready, current take of `shot` with a real clip, checks and references."""
    video, poster = shared_clip(shot.duration_s)
    take = TakeFactory(
        shot=shot,
        number=number,
        prompt=fields.pop("prompt", shot.prompt),
        media=ContentFile(video, name="take.mp4"),
        poster=ContentFile(poster, name="poster.png"),
        byte_size=len(video),
        duration_s=float(shot.duration_s),
        width=160,
        height=90,
        model="local-veo",
        provider="LocalGenerator",
        seed=1000 + number,
        config={"prompt": shot.prompt, "duration_s": shot.duration_s, "aspect_ratio": "16:9"},
        checks=[
            {"name": "not_blank", "passed": True, "value": 0.41, "limit": ">= 0.05", "reason": ""},
            {"name": "duration", "passed": True, "value": 4.0, "limit": "4 s", "reason": ""},
        ],
        **fields,
    )
    take.references.set(references)
    return take


def board_brief(*, shots: int = 3, notes_per_take: int = 0, checklist=(), **brief_fields) -> Brief:
    """Create a brief in review whose shots each have one ready take with references."""
    brief = BriefFactory(
        status=Brief.Status.IN_REVIEW,
        shot_count=min(max(shots, 1), 24),
        checklist=list(checklist),
        **brief_fields,
    )
    references = [AssetFactory(ip=brief.ip, title=f"{brief.ip.name} still {i}") for i in (1, 2)]
    for order in range(1, shots + 1):
        shot = ShotFactory(brief=brief, order=order, prompt=f"Shot {order}: the pier at dusk.")
        shot.references.set(references)
        take = ready_take(shot=shot, references=references)
        for index in range(notes_per_take):
            NoteFactory(
                take=take,
                user=brief.producer,
                timecode_start=0.5 + index,
                body=f"Note {index + 1} on shot {order}",
            )
    return brief
