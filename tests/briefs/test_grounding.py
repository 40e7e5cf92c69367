"""Grounding between plan and generate: each shot's cast has cleared references, and only theirs."""

import pytest

from briefs import pipeline
from briefs.models import Brief, Handoff, Shot, Take
from studio.ai import local
from studio.ai.types import Plan, ShotSpec
from tests.factories.briefs import BriefFactory
from tests.factories.retrieval import CharacterFactory, IPFactory, RightsFactory, embedded_asset


@pytest.fixture
def harbour(local_ai):
    """An IP with two characters, a portrait of each, and a harbour still showing nobody."""
    ip = IPFactory(name="Lanternfall")
    mira = CharacterFactory(ip=ip, name="Mira", slug="mira")
    pip = CharacterFactory(ip=ip, name="Pip", slug="pip")
    portraits = {}
    for character in (mira, pip):
        asset = embedded_asset(
            ip=ip,
            title=f"{character.name} portrait",
            description=f"{character.name} at the harbour, lantern light",
        )
        asset.characters.set([character])
        portraits[character.name] = asset
    embedded_asset(ip=ip, title="Harbour at dusk", description="the harbour and the lantern pier")
    return ip, portraits


def shot_references(brief: Brief) -> dict[int, set[str]]:
    return {
        shot.order: set(shot.references.values_list("title", flat=True))
        for shot in Shot.objects.filter(brief=brief)
    }


def test_each_shot_is_generated_from_references_of_its_own_cast(harbour):
    ip, _ = harbour
    brief = BriefFactory(
        ip=ip, shot_count=2, beat="Mira lights the harbour lantern. Pip runs along the pier."
    )

    brief = pipeline.run_inline(brief.pk)

    assert brief.status == Brief.Status.IN_REVIEW, brief.status_reason
    refs = shot_references(brief)
    assert "Mira portrait" in refs[1] and "Pip portrait" not in refs[1]
    assert "Pip portrait" in refs[2] and "Mira portrait" not in refs[2]
    shot = Shot.objects.get(brief=brief, order=2)
    assert list(shot.characters.values_list("name", flat=True)) == ["Pip"]
    grounded = Handoff.objects.filter(brief=brief, step="ground")
    assert sorted(grounded.values_list("outcome", flat=True)) == ["passed", "passed"]


def test_a_shot_naming_a_character_with_no_cleared_reference_is_routed_not_generated(harbour):
    ip, portraits = harbour
    pip = portraits["Pip"]
    pip.rights.delete()
    RightsFactory(asset=pip, worldwide=False, territories=["FR"])
    brief = BriefFactory(ip=ip, shot_count=1, territory="GB", beat="Pip runs along the pier.")

    brief = pipeline.run_inline(brief.pk)

    shot = Shot.objects.get(brief=brief)
    assert shot.status == Shot.Status.FAILED
    assert "names Pip but has no cleared reference of them" in shot.status_reason
    assert not Take.objects.filter(shot=shot).exists()
    assert brief.status == Brief.Status.NEEDS_ATTENTION
    assert "names Pip" in brief.status_reason
    assert Handoff.objects.get(brief=brief, step="ground").outcome == "routed"


class MiraForPipPlanner(local.LocalPlanner):
    """A planner that gives Pip's shot Mira's portrait (what a model did in a browser walk)."""

    def __init__(self, mira_id: int) -> None:
        self.mira_id = mira_id

    def plan(self, request):
        return Plan(
            shots=(
                ShotSpec(
                    prompt="Pip runs along the pier at dusk.",
                    negative_prompt="",
                    camera="pan right",
                    duration_s=4,
                    reference_ids=(self.mira_id,),
                    characters=("Pip",),
                    audio="Ambience: waves on the pier.",
                ),
            ),
            model=self.model,
        )


def test_a_reference_showing_someone_the_shot_does_not_name_routes_the_shot(harbour):
    ip, portraits = harbour
    brief = BriefFactory(ip=ip, shot_count=1, beat="Pip runs along the pier at dusk.")
    planner = MiraForPipPlanner(portraits["Mira"].pk)

    brief = pipeline.run_inline(brief.pk, providers=pipeline.Providers(planner=planner))

    shot = Shot.objects.get(brief=brief)
    assert shot.status == Shot.Status.FAILED
    assert "“Mira portrait” shows Mira" in shot.status_reason
    assert not Take.objects.filter(shot=shot).exists()


def test_retrying_a_shot_that_failed_grounding_regrounds_it_from_the_catalog_as_it_is_now(
    harbour,
):
    ip, portraits = harbour
    pip = portraits["Pip"]
    pip.rights.delete()
    RightsFactory(asset=pip, worldwide=False, territories=["FR"])
    brief = pipeline.run_inline(
        BriefFactory(ip=ip, shot_count=1, territory="GB", beat="Pip runs along the pier.").pk
    )
    with pytest.raises(pipeline.PipelineError, match="names Pip"):
        pipeline.retry_failed(brief_id=brief.pk, user=brief.producer)

    pip.rights.delete()
    RightsFactory(asset=pip, worldwide=True)
    pipeline.retry_failed(brief_id=brief.pk, user=brief.producer)
    brief = pipeline.run_inline(brief.pk)

    shot = Shot.objects.get(brief=brief)
    assert shot.status == Shot.Status.READY, _debug(brief)
    assert set(shot.references.values_list("title", flat=True)) == {
        "Pip portrait",
        "Harbour at dusk",
    }


def _debug(brief):
    take = Take.objects.get(shot__brief=brief)
    return take.status_reason, take.checks
