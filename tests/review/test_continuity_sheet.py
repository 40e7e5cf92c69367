"""The continuity sheet: who may see it, what it shows, and its htmx fragment."""

import pytest
from django.urls import reverse

from briefs.pipeline import continuity
from tests.factories.briefs import continuity_brief
from tests.factories.users import catalog_admin, director, producer

pytestmark = pytest.mark.django_db


@pytest.fixture
def drifting_brief():
    """Three shots of Mira, the third graded to the complementary palette, checked."""
    brief = continuity_brief(shifted=(3,))
    continuity.check_continuity(brief.pk)
    return brief


def test_given_a_checked_brief_when_a_director_opens_the_sheet_then_drift_is_seen_at_a_glance(
    client, drifting_brief
):
    client.force_login(director())

    page = client.get(reverse("review:continuity", args=[drifting_brief.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert '<h3 id="character-' in html and ">Mira</h3>" in html
    assert 'alt="Reference: Mira turnaround"' in html
    # Every shot's keyframes beside the references: 3 shots x 4 keyframes, served as files.
    keyframes = [url for url in page.context["sheet"].shots for _ in url.keyframes]
    assert len(keyframes) == 12 and html.count("/keyframes/") == 12
    assert "continuity: drifts from 2 of 2 other shots" in html
    assert html.count('class="pair-drifted"') == 2
    assert "<rect" in html and 'fill="#' in html and "style=" not in html
    assert " K\n" in html or " K<" in html


def test_given_a_keyframe_when_asked_for_then_it_is_the_stored_jpeg(client, drifting_brief):
    client.force_login(drifting_brief.producer)
    sheet = client.get(reverse("review:continuity", args=[drifting_brief.pk])).context["sheet"]
    take = sheet.shots[0].take

    keyframe = client.get(reverse("briefs:take_keyframe", args=[take.pk, 0]))
    missing = client.get(reverse("briefs:take_keyframe", args=[take.pk, 99]))

    assert keyframe.status_code == 200 and keyframe["Content-Type"] == "image/jpeg"
    assert b"".join(keyframe.streaming_content)[:3] == b"\xff\xd8\xff"
    assert missing.status_code == 404


def test_given_someone_who_may_not_see_the_brief_when_they_open_the_sheet_then_it_is_not_there(
    client, drifting_brief
):
    url = reverse("review:continuity", args=[drifting_brief.pk])
    take = drifting_brief.shots.first().takes.get()
    keyframe = reverse("briefs:take_keyframe", args=[take.pk, 0])

    anonymous = client.get(url)
    client.force_login(producer())
    other_producer = (client.get(url).status_code, client.get(keyframe).status_code)
    client.force_login(catalog_admin())
    admin = client.get(url).status_code
    client.force_login(drifting_brief.producer)
    owner = client.get(url).status_code

    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert other_producer == (404, 404)
    assert admin == 403
    assert owner == 200


def test_given_an_htmx_refresh_then_only_the_sheet_body_comes_back(client, drifting_brief):
    client.force_login(director())

    fragment = client.get(
        reverse("review:continuity", args=[drifting_brief.pk]), headers={"HX-Request": "true"}
    )

    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert html.lstrip().startswith('<div id="continuity-body">') and "<html" not in html
    assert fragment["Vary"] and "HX-Request" in fragment["Vary"]


def test_given_takes_not_yet_measured_then_the_sheet_says_so(client):
    brief = continuity_brief(shots=2)
    client.force_login(director())

    page = client.get(reverse("review:continuity", args=[brief.pk]))

    html = page.content.decode()
    assert "2 takes still to be measured" in html and "No shot pairs scored yet." in html


def test_given_unmeasured_takes_when_measure_now_is_pressed_then_the_check_is_queued_and_runs(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    from briefs.tasks import check_continuity
    from studio.celery import app

    brief = continuity_brief(shots=2)
    sent = []
    # The broker boundary: record what would be sent, then run that task as a worker would.
    monkeypatch.setattr(
        app, "send_task", lambda name, args, countdown=None: sent.append((name, args))
    )
    client.force_login(director())

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("review:continuity_measure", args=[brief.pk]))

    assert response.status_code == 302
    assert sent == [("briefs.check_continuity", [brief.pk])]
    check_continuity(*sent[0][1])
    html = client.get(reverse("review:continuity", args=[brief.pk])).content.decode()
    assert "still to be measured" not in html and "No shot pairs scored yet." not in html
