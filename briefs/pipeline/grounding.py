"""Grounding, between plan and generate: each shot's cast has cleared references, and only theirs.

A plan says who appears in each shot. References are chosen per shot from the brief's
rights-cleared assets: the plan's own picks, plus a reference of any named character it left
without one. A shot that still lacks a reference of someone it names, or carries a reference of
someone it does not name, is not generated: it goes to a person with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from briefs import checks
from briefs.models import Brief, Shot
from retrieval.models import Asset, Character
from retrieval.selectors import rights_cleared_assets


@dataclass(frozen=True)
class Grounding:
    """One shot's cast, the references it will be generated from, and the check's verdict."""

    characters: list[Character]
    reference_ids: list[int]
    result: checks.CheckResult


def characters_by_name(brief: Brief) -> dict[str, Character]:
    """Index the IP's characters by full and first name, lower-cased, as plans name them."""
    by_name: dict[str, Character] = {}
    for character in brief.ip.characters.all():
        by_name[character.name.lower()] = character
        by_name.setdefault(character.name.split()[0].lower(), character)
    return by_name


def cleared_references(brief: Brief) -> list[Asset]:
    """Return the brief's IP's assets cleared as references for its territory and date."""
    return list(
        rights_cleared_assets(ip=brief.ip, territory=brief.territory, on_date=brief.release_date)
        .exclude(kind=Asset.Kind.CLIP)
        .prefetch_related("characters")
        .order_by("-version", "pk")
    )


def ground_shot(
    brief: Brief,
    *,
    order: int,
    names: Sequence[str],
    reference_ids: Sequence[int],
    cleared: Sequence[Asset],
    by_name: dict[str, Character],
) -> Grounding:
    """Resolve a shot's named characters, add their missing references, and check the result."""
    cast = list(dict.fromkeys(by_name[n.lower()] for n in names if n.lower() in by_name))
    unknown = [n for n in names if n.lower() not in by_name]
    cleared_by_id = {asset.pk: asset for asset in cleared}
    # The planner only sees cleared references; anything else it names is dropped here.
    chosen = [cleared_by_id[pk] for pk in dict.fromkeys(reference_ids) if pk in cleared_by_id]
    for character in cast:
        if not any(character in asset.characters.all() for asset in chosen):
            alone = [a for a in cleared if list(a.characters.all()) == [character]]
            chosen.extend(alone[:1])
    # The cast's references lead: a generator leans on its first references most.
    chosen.sort(key=lambda asset: not asset.characters.all())
    result = checks.check_grounding(
        shot_order=order,
        named=[c.name for c in cast],
        unknown=unknown,
        references=[(a.title, [c.name for c in a.characters.all()]) for a in chosen],
        ip_name=brief.ip.name,
    )
    return Grounding(cast, [asset.pk for asset in chosen], result)


def reground(shot: Shot, cleared: Sequence[Asset], by_name: dict[str, Character]) -> Grounding:
    """Ground an existing shot again from the catalog as it is now (rights may have changed).

    Its references that show nobody (settings, style) stay; character references are chosen
    afresh, so a stray one the plan picked does not block the shot again.
    """
    return ground_shot(
        shot.brief,
        order=shot.order,
        names=[c.name for c in shot.characters.all()],
        reference_ids=[a.pk for a in shot.references.all() if not a.characters.all()],
        cleared=cleared,
        by_name=by_name,
    )
