"""Sound on the board, in notes and re-prompts, in the export and through the API and MCP."""

import io
import json
import zipfile
from datetime import date, timedelta

import av
import opentimelineio as otio
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from briefs.models import Brief, Take
from review import services
from review.models import Note
from studio.ai import media
from tests.factories.retrieval import IPFactory
from tests.factories.review import board_brief
from tests.factories.users import director, producer

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
TENSE_LINE = "Ambience: tense ambience, a low pulsing drone and gusting wind; no dialogue."


def sound_clip() -> bytes:
    """A small real clip with an ambience track, as the local generator renders one."""
    return media.render_clip(
        prompt="the pier",
        camera="pan right",
        duration_s=4,
        aspect_ratio="16:9",
        seed=1,
        palette=("#1f6f8b", "#f5b942"),
        reference_images=(),
        fps=6,
        size_short_side=90,
        mood="tense",
    )


def take_of(brief, order: int = 1) -> Take:
    return Take.objects.select_related("shot__brief").get(shot__brief=brief, shot__order=order)


def with_sound(take: Take, *, audio: str = TENSE_LINE) -> Take:
    take.media.save("sound.mp4", ContentFile(sound_clip()), save=False)
    Take.objects.filter(pk=take.pk).update(media=take.media.name, has_audio=True, audio=audio)
    take.shot.__class__.objects.filter(pk=take.shot_id).update(audio=audio)
    take.refresh_from_db()
    return take


def card(client, take: Take) -> str:
    return client.get(reverse("review:shot_card", args=[take.shot_id]), **HTMX).content.decode()


# --- the board ------------------------------------------------------------------------------------
def test_a_take_with_sound_gets_the_sound_bar_and_its_audio_line(client):
    take = with_sound(take_of(board_brief(shots=1)))
    client.force_login(director())

    html = card(client, take)

    # The bar waits hidden for sound.js; without it the video keeps its native controls.
    assert 'class="sound-bar" data-sound hidden' in html
    assert 'data-mute aria-pressed="false" aria-keyshortcuts="M"' in html
    assert f'<label class="sound-meter" for="level-{take.pk}">Level</label>' in html
    assert "<video preload" in html and "controls" in html
    assert "data-audio-line" in html and TENSE_LINE in html
    assert "No sound in this take" not in html


def test_a_silent_take_says_no_sound_instead_of_offering_a_meter(client):
    brief = board_brief(shots=1, sound=Brief.Sound.NONE)
    take = take_of(brief)
    Take.objects.filter(pk=take.pk).update(has_audio=False)
    client.force_login(director())

    html = card(client, take)

    assert "data-no-sound" in html and "No sound in this take" in html
    assert "data-mute" not in html
    assert "Sound: none asked for this brief." in html


def test_the_board_lists_the_mute_shortcut(client):
    brief = board_brief(shots=1)
    client.force_login(director())

    html = client.get(reverse("review:board", args=[brief.pk])).content.decode()

    assert "Mute / unmute the take" in html and "js/sound.js" in html


# --- notes about sound ----------------------------------------------------------------------------
def test_a_director_marks_a_note_as_about_sound_and_the_card_shows_it(client):
    take = with_sound(take_of(board_brief(shots=1)))
    client.force_login(director())

    response = client.post(
        reverse("review:add_note", args=[take.pk]),
        {"body": "The drone is too loud", "timecode_start": "1.0", "about_sound": "on"},
        **HTMX,
    )

    note = Note.objects.get(take=take)
    assert note.about_sound is True
    html = response.content.decode()
    assert "data-note-about-sound" in html and "marker-sound" in html
    assert 'aria-label="Sound note at 00:01.00' in html


def test_a_note_is_about_the_picture_unless_marked(client):
    take = take_of(board_brief(shots=1))
    client.force_login(director())

    client.post(reverse("review:add_note", args=[take.pk]), {"body": "Sky", "timecode_start": "0"})

    assert Note.objects.get(take=take).about_sound is False


def test_reprompting_from_a_sound_note_proposes_a_new_audio_line(client, settings):
    # Given a take with a tense ambience and a sound note asking for calm
    settings.AI_PROVIDER = "local"
    take = with_sound(take_of(board_brief(shots=1)))
    note = services.add_note(
        take=take, user=director(), body="Calmer, please", timecode_start=1.0, about_sound=True
    )
    client.force_login(director())

    # When the director opens the re-prompt page
    html = client.get(reverse("review:reprompt", args=[take.pk])).content.decode()

    # Then the proposal changes the audio line, shown as a diff and pre-filled
    assert "data-audio-diff" in html and "<ins>calm</ins>" in html and "<del>tense</del>" in html
    calm = "Ambience: calm ambience, soft room tone and a gentle breeze; no dialogue."
    assert f"{calm}</textarea>" in html

    # When they generate it
    response = client.post(
        reverse("review:reprompt", args=[take.pk]),
        {"prompt": take.prompt, "audio": calm, "answers": [note.pk]},
    )

    # Then the new take is asked for the calm ambience and answers the note
    assert response.status_code == 302
    new_take = Take.objects.get(shot=take.shot, number=2)
    assert new_take.audio == calm
    note.refresh_from_db()
    assert note.answered_by_take == new_take


def test_a_reprompt_without_an_audio_field_keeps_the_shots_line(client):
    take = with_sound(take_of(board_brief(shots=1)))
    client.force_login(director())

    client.post(reverse("review:reprompt", args=[take.pk]), {"prompt": "Wide: the pier again."})

    assert Take.objects.get(shot=take.shot, number=2).audio == TENSE_LINE


# --- export ---------------------------------------------------------------------------------------
def test_the_export_keeps_each_clips_sound_and_the_otio_timeline_carries_it(client):
    # Given two approved takes, the first with sound, the second silent
    brief = board_brief(shots=2, title="Harbour Sound")
    first = with_sound(take_of(brief, 1))
    second = take_of(brief, 2)
    Take.objects.filter(pk=second.pk).update(has_audio=False)
    for take in (first, second):
        services.decide(take=take, user=director(), verdict="approved", expected_version=1)
    client.force_login(brief.producer)

    # When the approved cut is exported
    response = client.get(reverse("review:export", args=[brief.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))

    # Then the exported media keeps its audio stream
    with av.open(io.BytesIO(archive.read("media/shot-01-take-01.mp4"))) as container:
        assert len(container.streams.audio) == 1
        assert container.streams.audio[0].codec_context.name == "aac"
    with av.open(io.BytesIO(archive.read("media/shot-02-take-01.mp4"))) as container:
        assert len(container.streams.audio) == 0
    # And the timeline has an audio track: the first clip's sound, then a gap as long as shot 2
    timeline = otio.adapters.read_from_string(
        archive.read("harbour-sound.otio").decode(), "otio_json"
    )
    video, audio = timeline.tracks
    assert (video.kind, audio.kind) == (otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio)
    sound, gap = list(audio)
    assert sound.media_reference.target_url == "media/shot-01-take-01.mp4"
    assert isinstance(gap, otio.schema.Gap)
    assert gap.duration().to_seconds() == pytest.approx(4.0)
    assert audio.duration() == video.duration()
    # And the manifest says what each take sounds like
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["brief"]["sound"] == brief.sound
    assert [t["media"]["has_audio"] for t in manifest["takes"]] == [True, False]
    assert manifest["takes"][0]["take"]["audio"] == TENSE_LINE


def test_a_silent_export_has_no_audio_track():
    brief = board_brief(shots=1, sound=Brief.Sound.NONE)
    take = take_of(brief)
    services.decide(take=take, user=director(), verdict="approved", expected_version=1)

    from review.export import build_export

    archive = build_export(brief=brief, user=brief.producer)
    with zipfile.ZipFile(archive.file) as zipped:
        name = next(n for n in zipped.namelist() if n.endswith(".otio"))
        timeline = otio.adapters.read_from_string(zipped.read(name).decode(), "otio_json")
    archive.file.close()
    assert [track.kind for track in timeline.tracks] == [otio.schema.TrackKind.Video]


# --- the API and MCP ------------------------------------------------------------------------------
def brief_payload(ip, **overrides) -> dict:
    return {
        "ip": ip.slug,
        "title": "Lantern teaser",
        "beat": "The lantern keeper walks the pier at dusk.",
        "shot_count": 1,
        "aspect_ratio": "16:9",
        "seconds_per_shot": 4,
        "territory": "GB",
        "release_date": (date.today() + timedelta(days=30)).isoformat(),
    } | overrides


def test_the_api_takes_a_sound_setting_defaults_to_ambience_and_refuses_others(client, auth):
    headers = auth(producer())

    def submit(**overrides):
        return client.post(
            "/api/v1/briefs",
            brief_payload(IPFactory(), **overrides),
            content_type="application/json",
            headers=headers,
        )

    dialogue, default, music = submit(sound="dialogue"), submit(), submit(sound="music")

    assert dialogue.status_code == 201 and dialogue.json()["sound"] == "dialogue"
    assert Brief.objects.get(pk=dialogue.json()["id"]).sound == "dialogue"
    assert default.status_code == 201 and default.json()["sound"] == "ambience"
    assert music.status_code == 422
    assert "sound" in json.dumps(music.json())


def test_the_api_shows_audio_lines_sound_in_takes_and_notes_about_sound(client, auth):
    brief = board_brief(shots=1)
    take = with_sound(take_of(brief))
    headers = auth(director())

    status = client.get(f"/api/v1/briefs/{brief.pk}", headers=headers).json()
    note = client.post(
        f"/api/v1/takes/{take.pk}/notes",
        {"body": "Drone too loud", "timecode_start": 1.0, "about_sound": True},
        content_type="application/json",
        headers=headers,
    )

    shot = status["shots"][0]
    assert status["sound"] == brief.sound and shot["audio"] == TENSE_LINE
    assert shot["current_take"]["has_audio"] is True
    assert shot["current_take"]["audio"] == TENSE_LINE
    assert note.status_code == 201 and note.json()["about_sound"] is True
    assert Note.objects.get(take=take).about_sound is True


def test_the_mcp_tools_take_a_sound_setting_and_notes_about_sound(call_tool):
    ip = IPFactory()
    arguments = brief_payload(ip, release_date=date.today() + timedelta(days=30))

    ok, brief = call_tool(producer(), "submit_brief", **arguments, sound="none")
    refused, message = call_tool(producer(), "submit_brief", **arguments, sound="music")

    assert ok and brief["sound"] == "none"
    assert Brief.objects.get(pk=brief["id"]).sound == "none"
    assert not refused and "Invalid input" in message and "sound" in message

    take = take_of(board_brief(shots=1))
    ok, note = call_tool(
        director(), "add_note", take_id=take.pk, body="Hiss", timecode_start=0.5, about_sound=True
    )
    assert ok and note["about_sound"] is True
