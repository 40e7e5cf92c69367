"""Notes that become re-prompts on the board: the proposal, the notes a new take answers."""

import pytest
from django.urls import reverse

from briefs.models import Take
from review import services
from review.models import Note
from tests.factories.review import board_brief
from tests.factories.users import director

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def noted_take(settings) -> tuple[Take, Note, Note]:
    settings.AI_PROVIDER = "local"
    take = Take.objects.select_related("shot__brief").get(shot__brief=board_brief(shots=1))
    dana = director(first_name="Dana")
    warmer = services.add_note(
        take=take,
        user=dana,
        body="Warmer light on the lantern",
        timecode_start=1.5,
        timecode_end=2.0,
        rect={"x": 0.6, "y": 0.0, "w": 0.3, "h": 0.3},
    )
    gulls = services.add_note(take=take, user=dana, body="No seagulls", timecode_start=0.5)
    return take, warmer, gulls


def test_reprompt_page_shows_the_proposal_as_a_diff_with_every_note_ticked(client, noted_take):
    take, warmer, gulls = noted_take
    client.force_login(director())

    html = client.get(reverse("review:reprompt", args=[take.pk])).content.decode()

    assert "Proposed from the notes" in html and "local-reviser-1" in html
    assert "<ins>fixes:</ins>" in html and "<ins>seagulls</ins>" in html
    assert "upper right of the frame: warmer light on the lantern." in html
    assert f'name="answers" value="{warmer.pk}" checked' in html
    assert f'name="answers" value="{gulls.pk}" checked' in html


def test_new_take_records_the_notes_the_director_kept_ticked(client, noted_take):
    take, warmer, gulls = noted_take
    client.force_login(director())

    response = client.post(
        reverse("review:reprompt", args=[take.pk]),
        {"prompt": "Wide: the pier, warmer lantern light.", "answers": [warmer.pk]},
    )

    assert response.status_code == 302
    new_take = Take.objects.get(shot=take.shot, number=2)
    warmer.refresh_from_db()
    gulls.refresh_from_db()
    assert warmer.answered_by_take == new_take
    assert gulls.answered_by_take is None


def test_board_shows_each_note_as_addressed_or_not_in_the_next_take(client, noted_take):
    take, warmer, _ = noted_take
    user = director()
    services.reprompt(
        take=take,
        user=user,
        prompt="Warmer light.",
        negative_prompt="",
        reference_ids=[],
        answered_note_ids=[warmer.pk],
    )
    client.force_login(user)

    url = reverse("review:shot_card", args=[take.shot_id]) + f"?take={take.pk}"
    html = client.get(url, **HTMX).content.decode()

    assert html.count("addressed in take 2") == 2
    assert "data-note-addressed>addressed in take 2" in html
    assert "data-note-open>not addressed in take 2" in html


def test_a_failing_model_still_gets_a_proposal_from_the_offline_rules(settings, noted_take):
    take, warmer, gulls = noted_take
    settings.AI_PROVIDER, settings.GEMINI_API_KEY = "gemini", "test-key"
    settings.GEMINI_BASE_URL = "http://127.0.0.1:9"

    proposal = services.propose_reprompt(take=take)

    assert proposal.model == "local-reviser-1"
    assert proposal.answered_note_ids == (gulls.pk, warmer.pk)
