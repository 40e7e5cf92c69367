"""Notes that become re-prompts: the offline rule-based rewrite and Gemini's structured proposal."""

import json

import pytest

from studio.ai.gemini import GeminiReviser
from studio.ai.local import LocalReviser
from studio.ai.types import MalformedOutputError, NoteSpec, RevisionRequest
from tests.ai.test_gemini import client_for
from tests.fakes.gemini_server import text_answer


def request(*notes: NoteSpec, prompt: str = "Wide shot: the pier at dusk.") -> RevisionRequest:
    return RevisionRequest(prompt=prompt, negative_prompt="text, logos", notes=notes)


def test_local_rewrite_places_each_fix_in_time_and_frame_and_moves_removals_to_negative():
    # Given a ranged note on a region, a point note, and a note asking for a removal
    notes = (
        NoteSpec(1, "Warmer light on the lantern.", 1.5, 2.0, (0.0, 0.0, 0.3, 0.3)),
        NoteSpec(2, "Slower push-in", 3.0),
        NoteSpec(3, "No seagulls", 0.5),
    )

    # When the offline reviser rewrites the prompt
    revision = LocalReviser().revise(request(*notes))

    # Then each fix says when and where, the removal is avoided, and every note is answered
    assert revision.prompt == (
        "Wide shot: the pier at dusk.\n\nReview fixes: at 1.5-2.0 s, upper left of the frame: "
        "warmer light on the lantern; at 3.0 s: slower push-in."
    )
    assert revision.negative_prompt == "text, logos, seagulls"
    assert revision.answered_note_ids == (1, 2, 3)


def test_local_rewrite_is_deterministic_and_replaces_earlier_fixes_rather_than_stacking():
    first = LocalReviser().revise(request(NoteSpec(1, "Warmer light", 1.0)))

    again = LocalReviser().revise(request(NoteSpec(2, "More fog", 2.0), prompt=first.prompt))

    assert LocalReviser().revise(request(NoteSpec(1, "Warmer light", 1.0))) == first
    assert again.prompt == "Wide shot: the pier at dusk.\n\nReview fixes: at 2.0 s: more fog."


def test_local_rewrite_without_notes_keeps_the_prompt():
    revision = LocalReviser().revise(request())

    assert (revision.prompt, revision.answered_note_ids) == ("Wide shot: the pier at dusk.", ())


def test_gemini_proposal_comes_back_through_the_schema_with_the_notes_it_answers(fake_gemini):
    reviser = GeminiReviser(client_for(fake_gemini), "gemini-2.5-flash")

    revision = reviser.revise(request(NoteSpec(7, "Warmer light", 1.0), NoteSpec(9, "Fog", 2.0)))

    assert revision.prompt == "Wide shot: the pier at dusk. Revised to answer 2 note(s)."
    assert revision.answered_note_ids == (7, 9)
    sent = fake_gemini.requests[-1].body
    assert sent["generationConfig"]["responseMimeType"] == "application/json"
    assert "[note 7] at 1.00 s: Warmer light" in json.dumps(sent)


def test_gemini_proposal_answering_notes_it_was_not_given_is_refused(fake_gemini):
    answer = {"prompt": "New", "negative_prompt": "", "answered_note_ids": [1, 99]}
    fake_gemini.script("generateContent", text_answer(json.dumps(answer)))

    with pytest.raises(MalformedOutputError, match="not given"):
        GeminiReviser(client_for(fake_gemini)).revise(request(NoteSpec(1, "Fog", 1.0)))
