"""Sound at the model boundary: audio lines from the planners, audio asked of Veo and rendered
offline, and review notes about sound answered in the audio line."""

from __future__ import annotations

import dataclasses
import io

import av

from studio.ai import local
from studio.ai.gemini import GeminiPlanner, GeminiReviser, GeminiVideoGenerator, renders_sound
from studio.ai.types import GenerationRequest, NoteSpec, PlanRequest, RevisionRequest
from tests.ai.test_gemini import client_for


def plan_request(**overrides) -> PlanRequest:
    fields = {
        "title": "The tide",
        "beat": 'Mara walks the pier at dusk. She says "The tide is early." The tide rolls in.',
        "tone": "tense",
        "shot_count": 3,
        "aspect_ratio": "16:9",
        "seconds_per_shot": 4,
        "negative_prompt": "",
        "ip_name": "Lanternfall",
        "style_notes": "painted",
        "palette": (),
        "references": (),
        "characters": ("Mara Vell",),
        "sound": "ambience",
    }
    return PlanRequest(**(fields | overrides))


def generation_request(**overrides) -> GenerationRequest:
    fields = {
        "prompt": "Wide shot: the pier at dusk. calm mood.",
        "negative_prompt": "",
        "camera": "static",
        "duration_s": 4,
        "aspect_ratio": "16:9",
        "seed": 7,
        "palette": (),
        "reference_images": (),
        "idempotency_key": "take-sound-1",
    }
    return GenerationRequest(**(fields | overrides))


def audio_streams(video: bytes) -> int:
    with av.open(io.BytesIO(video)) as container:
        return len(container.streams.audio)


# --- the local planner ----------------------------------------------------------------------------
def test_local_planner_writes_an_ambience_line_per_shot_in_the_briefs_mood():
    # Given a tense brief that wants ambience
    # When the offline planner plans it
    plan = local.LocalPlanner().plan(plan_request(sound="ambience"))

    # Then every shot has an ambience line in that mood, with no speech
    assert [shot.audio for shot in plan.shots] == [
        "Ambience: tense ambience, a low pulsing drone and gusting wind; no dialogue."
    ] * 3


def test_local_planner_gives_a_quoted_line_to_the_character_who_speaks_it():
    # Given a brief with dialogue whose beat quotes a line
    # When it is planned
    plan = local.LocalPlanner().plan(plan_request(sound="dialogue"))

    # Then the first shot's speaker (named in its clause) says the quoted words over ambience
    first, second = plan.shots[0].audio, plan.shots[1].audio
    assert first.startswith('Dialogue: Mara Vell says "The tide is early."')
    assert "tense ambience" in first
    # And a shot with no quoted line asks for one short line about its moment
    assert second.startswith("Dialogue: A narrator speaks one short line about this moment")
    # And the quote is not split into picture prompts
    assert all('"' not in shot.prompt for shot in plan.shots)


def test_local_planner_writes_no_audio_when_the_brief_wants_silence():
    plan = local.LocalPlanner().plan(plan_request(sound="none"))

    assert {shot.audio for shot in plan.shots} == {""}


# --- the local generator --------------------------------------------------------------------------
def test_local_generator_renders_sound_for_a_request_that_wants_it(tmp_path):
    # Given a generator with no global audio switch
    generator = local.LocalGenerator(tmp_path)

    # When one take wants ambience and another wants none
    loud = generator.poll(
        generator.start(generation_request(sound="ambience", audio="Ambience: calm."))
    )
    silent = generator.poll(generator.start(generation_request(idempotency_key="take-sound-2")))

    # Then only the first clip carries an audio track
    assert audio_streams(loud.video) == 1
    assert audio_streams(silent.video) == 0


def test_the_ambience_follows_the_audio_line_before_the_prompt():
    # Given a calm picture prompt whose audio line asks for tense ambience
    request = generation_request(
        sound="ambience", audio="Ambience: tense ambience, a low pulsing drone; no dialogue."
    )

    # Then the rendered ambience is the audio line's mood, else the prompt's
    assert local.sound_mood(request) == "tense"
    assert local.sound_mood(dataclasses.replace(request, audio="")) == "calm"


# --- the local reviser ----------------------------------------------------------------------------
TENSE_LINE = "Ambience: tense ambience, a low pulsing drone and gusting wind; no dialogue."


def test_a_sound_note_naming_a_mood_changes_the_audio_line_not_the_prompt():
    # Given a take with a tense ambience and a note about sound asking for calm
    request = RevisionRequest(
        prompt="Wide shot: the pier.",
        negative_prompt="",
        audio=TENSE_LINE,
        notes=(NoteSpec(note_id=5, body="Calmer here, please.", start_s=1.0, about_sound=True),),
    )

    # When the offline reviser proposes the next take
    revision = local.LocalReviser().revise(request)

    # Then the audio line's ambience is the calm one, the picture prompt is untouched
    assert revision.audio == (
        "Ambience: calm ambience, soft room tone and a gentle breeze; no dialogue."
    )
    assert revision.prompt == "Wide shot: the pier."
    assert revision.answered_note_ids == (5,)


def test_other_sound_notes_become_timed_sound_fixes_and_picture_notes_stay_in_the_prompt():
    request = RevisionRequest(
        prompt="Wide shot: the pier.",
        negative_prompt="",
        audio=TENSE_LINE,
        notes=(
            NoteSpec(1, "Remove the hiss", 0.5, 1.5, about_sound=True),
            NoteSpec(2, "Footsteps should land on the beat", 2.0, about_sound=True),
            NoteSpec(3, "Brighter sky", 0.0),
        ),
    )

    revision = local.LocalReviser().revise(request)

    assert revision.audio == (
        TENSE_LINE + " Sound fixes: at 0.5-1.5 s: without the hiss; "
        "at 2.0 s: footsteps should land on the beat."
    )
    assert revision.prompt.endswith("Review fixes: at 0.0 s: brighter sky.")
    # And revising the revision replaces the fixes instead of stacking them
    again = local.LocalReviser().revise(dataclasses.replace(request, audio=revision.audio))
    assert again.audio == revision.audio


# --- Gemini, through the real client against the loopback fake -----------------------------------
def test_gemini_planner_asks_for_and_returns_an_audio_line_per_shot(fake_gemini):
    planner = GeminiPlanner(client_for(fake_gemini))

    plan = planner.plan(plan_request(sound="ambience", shot_count=2))

    assert all(shot.audio.startswith("Ambience:") for shot in plan.shots)
    sent = fake_gemini.received("generateContent")[0].body
    schema = sent["generationConfig"]["responseSchema"]
    assert "audio" in schema["properties"]["shots"]["items"]["properties"]
    text = sent["contents"][0]["parts"][0]["text"]
    assert "Sound: ambience only, no dialogue" in text


def test_gemini_planner_drops_audio_lines_for_a_silent_brief(fake_gemini):
    plan = GeminiPlanner(client_for(fake_gemini)).plan(plan_request(sound="none", shot_count=2))

    assert {shot.audio for shot in plan.shots} == {""}
    text = fake_gemini.received("generateContent")[0].body["contents"][0]["parts"][0]["text"]
    assert "Sound: none (silent shots)" in text


def test_veo_3_is_asked_for_audio_with_the_audio_line_and_returns_a_clip_with_sound(fake_gemini):
    # Given a Veo 3 generator and a take whose brief wants ambience
    generator = GeminiVideoGenerator(client_for(fake_gemini, vertexai=True))
    request = generation_request(sound="ambience", audio="Ambience: gulls and waves.")

    # When the take is started and polled until done
    operation = generator.start(request)
    generator.poll(operation)
    done = generator.poll(operation)

    # Then the wire request carries generateAudio and the prompt says what is heard
    sent = fake_gemini.received("predictLongRunning")[0].body
    assert sent["parameters"]["generateAudio"] is True
    assert sent["instances"][0]["prompt"].endswith("Audio: Ambience: gulls and waves.")
    # And the clip that comes back has sound
    assert audio_streams(done.video) == 1


def test_veo_2_is_never_sent_generate_audio_so_its_request_still_works(fake_gemini):
    # Given a Veo 2 model, which refuses generateAudio
    generator = GeminiVideoGenerator(client_for(fake_gemini, vertexai=True), "veo-2.0-generate-001")

    # When a take that wants sound is started
    generator.start(generation_request(sound="dialogue", audio="Mara: hello."))

    # Then the request goes out without the field (its takes are checked for sound as usual)
    assert "generateAudio" not in fake_gemini.received("predictLongRunning")[0].body["parameters"]
    assert [
        renders_sound(m) for m in ("veo-2.0-generate-001", "veo-3.0-fast", "veo-4-preview")
    ] == [
        False,
        True,
        True,
    ]


def test_gemini_reviser_marks_sound_notes_and_returns_the_revised_audio_line(fake_gemini):
    reviser = GeminiReviser(client_for(fake_gemini))
    request = RevisionRequest(
        prompt="Wide shot: the pier.",
        negative_prompt="",
        audio=TENSE_LINE,
        notes=(NoteSpec(9, "The drone is too loud", 1.0, about_sound=True),),
    )

    revision = reviser.revise(request)

    text = fake_gemini.received("generateContent")[0].body["contents"][0]["parts"][0]["text"]
    assert f"Audio line: {TENSE_LINE}" in text
    assert "[note 9] at 1.00 s (sound): The drone is too loud" in text
    assert revision.audio.startswith(TENSE_LINE) and revision.audio != TENSE_LINE
