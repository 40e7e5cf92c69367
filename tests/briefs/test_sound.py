"""A brief's sound setting, through the form, the plan, generation and the checks."""

import dataclasses
from datetime import date, timedelta

import pytest
from django.urls import reverse

from briefs import checks, pipeline, services
from briefs.models import Brief, Shot, Take
from studio.ai import local
from studio.ai.types import Plan, ShotSpec
from tests.factories.briefs import BriefFactory
from tests.factories.retrieval import IPFactory, embedded_asset
from tests.factories.users import producer

pytestmark = pytest.mark.django_db


@pytest.fixture
def harbour(db):
    """An IP with two embedded, worldwide-cleared references that match the factory beat."""
    ip = IPFactory()
    embedded_asset(ip=ip, title="Lantern keeper", description="the lantern keeper walks the pier")
    embedded_asset(ip=ip, title="Tide", description="the tide rolls in over the stones")
    return ip


@pytest.fixture
def gemini(harbour, settings, fake_gemini, tmp_path):
    """The harbour IP (embedded locally), with every model call then going to the fake Gemini."""
    settings.LOCAL_OPS_DIR = tmp_path
    settings.AI_PROVIDER = "gemini"
    settings.GEMINI_API_KEY = "test-key"
    settings.GEMINI_BASE_URL = fake_gemini.url
    fake_gemini.ip = harbour
    return fake_gemini


class SilentGenerator(local.LocalGenerator):
    """Renders the picture but never sound, as a model without audio (Veo 2) does."""

    def start(self, request):
        return super().start(dataclasses.replace(request, sound="none"))


def findings(take: Take) -> dict[str, dict]:
    return {finding["name"]: finding for finding in take.checks}


def test_a_brief_with_ambience_gets_audio_lines_and_takes_with_checked_sound(local_ai, harbour):
    # Given a calm brief that wants ambience
    brief = BriefFactory(ip=harbour, shot_count=2, sound=Brief.Sound.AMBIENCE)

    # When the pipeline runs it offline
    brief = pipeline.run_inline(brief.pk)

    # Then every shot has an ambience line, and its take was asked for it and has sound
    assert brief.status == Brief.Status.IN_REVIEW, brief.status_reason
    for shot in brief.shots.all():
        take = shot.takes.get()
        assert shot.audio.startswith("Ambience: calm ambience")
        assert take.audio == shot.audio
        assert take.config["sound"] == "ambience" and take.config["audio"] == shot.audio
        assert take.has_audio is True and take.status == Take.Status.READY
        # And the checks judged that sound: not silent, not clipped, loud enough
        measured = findings(take)
        assert measured["loudness"]["passed"] and measured["clipping"]["passed"]
        assert not any(f["name"] == "silence" and not f["passed"] for f in take.checks)


def test_a_brief_with_no_sound_gets_silent_takes_that_pass(local_ai, harbour):
    brief = BriefFactory(ip=harbour, shot_count=1, sound=Brief.Sound.NONE)

    brief = pipeline.run_inline(brief.pk)

    take = Take.objects.get(shot__brief=brief)
    assert brief.status == Brief.Status.IN_REVIEW, brief.status_reason
    assert take.shot.audio == "" and take.audio == ""
    assert take.has_audio is False and take.checks_passed
    assert take.config["sound"] == "none"


def test_a_silent_take_of_a_brief_that_wants_sound_never_reaches_review_unflagged(
    local_ai, harbour, settings
):
    # Given a brief that wants dialogue and a generator that renders no sound
    settings.PIPELINE_AUTO_RETAKES = 0
    brief = BriefFactory(ip=harbour, shot_count=1, sound=Brief.Sound.DIALOGUE)
    providers = pipeline.Providers(generator=SilentGenerator(local_ai.LOCAL_OPS_DIR))

    # When the pipeline runs
    brief = pipeline.run_inline(brief.pk, providers=providers)

    # Then the take fails its checks for having no audio, and a person is told why
    shot = Shot.objects.get(brief=brief)
    take = shot.takes.get(is_current=True)
    assert take.has_audio is False and take.checks_passed is False
    assert findings(take)["audio"]["passed"] is False
    assert "clip has no audio" in take.status_reason
    assert take.status == Take.Status.ROUTED


def test_a_plan_without_audio_lines_fails_its_check_when_the_brief_wants_sound():
    shot = ShotSpec(
        prompt="Wide shot: the pier.",
        negative_prompt="",
        camera="static",
        duration_s=4,
        reference_ids=(),
    )
    plan = Plan(shots=(shot, dataclasses.replace(shot, audio="Ambience: waves.")), model="m")

    wanted = checks.check_plan(plan=plan, shot_count=2, known_reference_ids=set(), wants_sound=True)
    silent = checks.check_plan(plan=plan, shot_count=2, known_reference_ids=set())

    assert not wanted.passed
    assert "shot(s) 1 have no audio line; the brief wants sound" in wanted.reasons
    assert silent.passed


def test_the_gemini_pipeline_plans_audio_lines_and_veo_returns_sound(gemini):
    fake = gemini
    brief = BriefFactory(ip=fake.ip, shot_count=1, seconds_per_shot=4)

    brief = pipeline.run_inline(brief.pk)

    take = Take.objects.get(shot__brief=brief)
    assert brief.status == Brief.Status.IN_REVIEW, brief.status_reason
    assert take.shot.audio.startswith("Ambience:") and take.has_audio is True
    sent = fake.received("predictLongRunning")[0].body
    assert sent["parameters"]["generateAudio"] is True
    assert "Audio: Ambience:" in sent["instances"][0]["prompt"]


# --- submitting -----------------------------------------------------------------------------------
def submit_fields(**overrides) -> dict:
    return {
        "producer": producer(),
        "ip": IPFactory(),
        "title": "Harbour",
        "beat": "The keeper walks the pier.",
        "tone": "calm",
        "shot_count": 1,
        "aspect_ratio": "16:9",
        "seconds_per_shot": 4,
        "territory": "GB",
        "release_date": date.today() + timedelta(days=30),
    } | overrides


def test_a_brief_asks_for_ambience_unless_the_producer_says_otherwise():
    assert services.brief_submit(**submit_fields()).sound == Brief.Sound.AMBIENCE
    assert services.brief_submit(**submit_fields(sound="dialogue")).sound == "dialogue"


def test_an_unknown_sound_is_refused_by_the_service_and_the_form(client):
    with pytest.raises(services.BriefError, match="dialogue, ambience or none") as refused:
        services.brief_submit(**submit_fields(sound="music"))
    assert refused.value.field == "sound"

    user = producer()
    client.force_login(user)
    response = client.post(reverse("briefs:create"), {"title": "x", "sound": "music"})
    assert response.status_code == 200
    assert "Choose dialogue, ambience or no sound." in response.content.decode()


def test_the_brief_page_shows_the_sound_setting_and_each_shots_audio_line(
    client, local_ai, harbour
):
    brief = pipeline.run_inline(BriefFactory(ip=harbour, shot_count=1, sound="ambience").pk)
    client.force_login(brief.producer)

    page = client.get(brief.get_absolute_url()).content.decode()

    assert "Sound: ambience only" in page
    audio = Shot.objects.get(brief=brief).audio
    assert "data-shot-audio" in page and audio in page
    assert "with sound" in page
