"""The continuity sheet as data: the JSON API route and the MCP tool, for those who may see it."""

import pytest

from briefs.pipeline import continuity
from tests.factories.review import board_brief
from tests.factories.users import catalog_admin, director, producer

pytestmark = pytest.mark.django_db


@pytest.fixture
def checked_brief():
    """A two-shot brief in review whose takes were measured and paired."""
    brief = board_brief(shots=2)
    continuity.check_continuity(brief.pk)
    return brief


def test_given_a_checked_brief_when_its_producer_reads_continuity_then_shots_and_pairs_come_back(
    client, auth, checked_brief
):
    answer = client.get(
        f"/api/v1/briefs/{checked_brief.pk}/continuity", headers=auth(checked_brief.producer)
    )

    assert answer.status_code == 200
    body = answer.json()
    assert [shot["order"] for shot in body["shots"]] == [1, 2]
    assert all(shot["measured"] and len(shot["keyframe_urls"]) == 4 for shot in body["shots"])
    assert 0 < body["shots"][0]["luminance"] < 100
    (pair,) = body["pairs"]
    assert (pair["first_shot"], pair["second_shot"]) == (1, 2)
    # The same clip in both shots: nothing drifts, and no character is shared.
    assert pair["look"] is None and pair["palette"] == 0 and pair["light"] == 0
    assert not pair["drifted"]
    assert set(body["limits"]) == {"look", "palette", "light"}
    assert body["sheet_url"] == f"/review/briefs/{checked_brief.pk}/continuity/"
    keyframe = client.get(body["shots"][0]["keyframe_urls"][0])
    assert keyframe.status_code == 302  # a page link: it needs a signed-in session


def test_given_a_brief_when_others_read_its_continuity_then_they_get_404_or_403(
    client, auth, checked_brief
):
    url = f"/api/v1/briefs/{checked_brief.pk}/continuity"

    statuses = [
        client.get(url, headers=auth(user)).status_code
        for user in (producer(), catalog_admin(), director())
    ]

    assert statuses == [404, 403, 200]


def test_given_a_checked_brief_when_an_agent_calls_the_mcp_tool_then_it_gets_the_same_read(
    call_tool, checked_brief
):
    ok, result = call_tool(checked_brief.producer, "brief_continuity", brief_id=checked_brief.pk)
    refused, message = call_tool(producer(), "brief_continuity", brief_id=checked_brief.pk)

    assert ok and len(result["pairs"]) == 1 and result["pairs"][0]["drift"] == 0
    assert not refused and "No brief" in message
