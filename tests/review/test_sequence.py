"""The sequence player over HTTP: one fixed-cost read, statuses and markers, who may see it."""

import pytest
from django.urls import reverse

from briefs.models import Take
from review import services
from review.models import Note
from tests.factories.review import board_brief
from tests.factories.users import catalog_admin, director, producer

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def take_of(brief, order: int = 1) -> Take:
    return Take.objects.select_related("shot__brief").get(shot__brief=brief, shot__order=order)


def test_given_a_long_brief_when_the_sequence_opens_then_it_costs_a_fixed_number_of_queries(
    client, django_assert_max_num_queries
):
    brief = board_brief(shots=30, notes_per_take=2)
    client.force_login(director())

    # Session, user, the viewer's IP roles (teams), then the page's own reads.
    with django_assert_max_num_queries(9):
        response = client.get(reverse("review:sequence", args=[brief.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("data-clip ") == 30
    assert html.count('class="marker') == 60


def test_given_shots_in_several_states_when_listed_then_each_clip_shows_order_status_and_link(
    client,
):
    brief = board_brief(shots=3)
    first, second = take_of(brief, 1), take_of(brief, 2)
    services.decide(take=first, user=director(), verdict="approved", expected_version=1)
    services.decide(
        take=second,
        user=director(),
        verdict="rejected",
        expected_version=1,
        reason_code="artefacts",
    )
    client.force_login(brief.producer)

    html = client.get(reverse("review:sequence", args=[brief.pk])).content.decode()

    items = html.split('<li class="seq-item')[1:]
    assert [("Shot 1" in i, "Shot 2" in i, "Shot 3" in i) for i in items] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]
    assert ">Approved<" in items[0] and ">Rejected<" in items[1]
    assert ">Ready for review<" in items[2]
    assert reverse("briefs:take_media", args=[first.pk]) in items[0]
    assert "00:04.00\u201300:08.00" in items[1]


def test_given_notes_and_failed_checks_then_both_are_markers_on_the_sequence_clock(client):
    brief = board_brief(shots=2)
    second = take_of(brief, 2)
    Note.objects.create(take=second, user=brief.producer, body="Horizon tilts", timecode_start=1)
    second.checks = [
        {"name": "frozen", "passed": False, "start_s": 2.0, "end_s": 3.0, "reason": "Frozen 1 s"}
    ]
    second.save(update_fields=["checks"])
    client.force_login(director())

    html = client.get(reverse("review:sequence", args=[brief.pk])).content.decode()

    # Shot 2 starts 4 s into an 8 s sequence: its note at 1 s sits at 62.5%, the finding at 75%.
    assert 'data-style="left: 62.50%;"' in html
    assert "Note on shot 2 at 00:01.00: " in html
    assert "left: 75.00%; width: calc(87.50% - 75.00%);" in html
    assert "Automatic finding on shot 2 at 00:02.00: Automatic check frozen: Frozen 1 s" in html


def test_given_an_htmx_refresh_then_only_the_timeline_and_list_come_back(client):
    brief = board_brief(shots=2)
    client.force_login(director())

    html = client.get(reverse("review:sequence", args=[brief.pk]), **HTMX).content.decode()

    assert html.lstrip().startswith('<div id="sequence-data"')
    assert "data-seq-video" not in html


def test_given_another_producers_brief_then_the_sequence_is_not_found(client):
    brief = board_brief(shots=1)
    client.force_login(producer())

    assert client.get(reverse("review:sequence", args=[brief.pk])).status_code == 404


def test_given_a_catalog_admin_then_the_sequence_is_forbidden(client):
    brief = board_brief(shots=1)
    client.force_login(catalog_admin())

    assert client.get(reverse("review:sequence", args=[brief.pk])).status_code == 403


def test_given_the_board_then_it_links_to_the_sequence(client):
    brief = board_brief(shots=1)
    client.force_login(brief.producer)

    html = client.get(reverse("review:board", args=[brief.pk])).content.decode()

    assert reverse("review:sequence", args=[brief.pk]) in html
