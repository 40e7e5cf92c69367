"""Dailies: a named playlist of shots from several briefs, reviewed in order, decisions kept."""

import pytest
from django.urls import reverse

from briefs.models import Take
from review.models import Decision, Playlist
from tests.factories.review import board_brief
from tests.factories.users import catalog_admin, director, producer

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def take_of(brief, order: int) -> Take:
    return Take.objects.get(shot__brief=brief, shot__order=order)


def test_given_waiting_shots_in_two_briefs_when_picked_then_the_playlist_plays_them_in_order(
    client,
):
    harbour, market = board_brief(shots=2, title="Harbour"), board_brief(shots=1, title="Market")
    dana = director()
    client.force_login(dana)
    offered = client.get(reverse("review:dailies")).content.decode()
    assert "Harbour · shot 2, take 1" in offered and "Market · shot 1, take 1" in offered
    picked = [take_of(market, 1).shot_id, take_of(harbour, 2).shot_id]

    response = client.post(reverse("review:dailies"), {"name": "Tuesday dailies", "shots": picked})

    playlist = Playlist.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("review:playlist", args=[playlist.pk])
    html = client.get(response["Location"]).content.decode()
    assert "<h1>Tuesday dailies</h1>" in html
    assert html.index("Market · shot 1") < html.index("Harbour · shot 2")
    assert html.count("data-clip ") == 2 and 'name="playlist"' in html


def test_given_a_decision_in_the_session_then_the_playlist_keeps_it_and_others_see_it_on_poll(
    client,
):
    brief = board_brief(shots=2)
    ana, bo = director(first_name="Ana"), director(first_name="Bo")
    take = take_of(brief, 2)
    client.force_login(ana)
    client.post(
        reverse("review:dailies"), {"name": "Dailies", "shots": [take.shot_id]}, follow=True
    )
    playlist = Playlist.objects.get()

    client.post(
        reverse("review:decide", args=[take.pk]),
        {"verdict": "approved", "version": 1, "playlist": playlist.pk},
        **HTMX,
    )

    assert Decision.objects.get().playlist == playlist
    client.force_login(bo)
    polled = client.get(reverse("review:playlist", args=[playlist.pk]), **HTMX).content.decode()
    assert polled.lstrip().startswith('<div id="sequence-data"')
    assert 'hx-trigger="every' in polled
    assert "<strong>Ana</strong>" in polled and "approved" in polled and "shot 2, take 1" in polled


def test_given_nothing_picked_then_no_playlist_is_made(client):
    board_brief(shots=1)
    client.force_login(director())

    response = client.post(reverse("review:dailies"), {"name": "Empty", "shots": []})

    assert response.status_code == 400 and not Playlist.objects.exists()
    assert "Pick shots." in response.content.decode()


@pytest.mark.parametrize("role", [producer, catalog_admin])
def test_given_a_producer_or_catalog_admin_then_dailies_are_forbidden(client, role):
    brief = board_brief(shots=1)
    playlist = Playlist.objects.create(name="Dailies", created_by=director())
    playlist.items.create(shot=take_of(brief, 1).shot, position=1)
    client.force_login(role())

    assert client.get(reverse("review:dailies")).status_code == 403
    assert client.get(reverse("review:playlist", args=[playlist.pk])).status_code == 403


def test_given_a_long_playlist_then_it_costs_a_fixed_number_of_queries(
    client, django_assert_max_num_queries
):
    shots = [take_of(board_brief(shots=1, notes_per_take=2), 1).shot for _ in range(12)]
    playlist = Playlist.objects.create(name="Dailies", created_by=director())
    for position, shot in enumerate(shots, start=1):
        playlist.items.create(shot=shot, position=position)
    client.force_login(director())

    with django_assert_max_num_queries(10):
        response = client.get(reverse("review:playlist", args=[playlist.pk]))

    assert response.content.decode().count("data-clip ") == 12
