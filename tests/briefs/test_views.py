"""The brief form, the brief page and its live panel, the plan gate, and the takes' media."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from briefs.models import Brief, Shot, Take
from tests.factories.briefs import BriefFactory, ShotFactory, TakeFactory
from tests.factories.retrieval import AssetFactory, IPFactory, RightsFactory
from tests.factories.users import catalog_admin, director, producer

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


def form_data(ip, **overrides):
    data = {
        "ip": ip.pk,
        "title": "Harbour teaser",
        "beat": "The lantern keeper walks the pier at dusk, then the tide rolls in.",
        "tone": "calm",
        "shot_count": 3,
        "aspect_ratio": "16:9",
        "seconds_per_shot": 6,
        "sound": "ambience",
        "territory": "GB",
        "release_date": (date.today() + timedelta(days=30)).isoformat(),
        "negative_prompt": "text, logos",
        "budget_cap": "25.00",
        "checklist": "On model\n\nLantern visible\n",
    }
    return data | overrides


def test_a_producer_submits_a_brief_and_the_pipeline_starts_after_commit(
    client, django_capture_on_commit_callbacks
):
    user = producer()
    ip = IPFactory()
    pinned = AssetFactory(ip=ip, title="Keeper portrait")
    signed_in(client, user)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("briefs:create"),
            form_data(ip, pinned_references=[pinned.pk], requires_plan_approval="on"),
            follow=True,
        )

    brief = Brief.objects.get()
    assert response.redirect_chain[-1][0] == reverse("briefs:detail", args=[brief.pk])
    assert "submitted; the pipeline has it" in response.text
    assert (brief.producer, brief.shot_count, brief.seconds_per_shot) == (user, 3, 6)
    assert brief.checklist == ["On model", "Lantern visible"]
    assert brief.requires_plan_approval and list(brief.pinned_references.all()) == [pinned]
    assert brief.status == Brief.Status.QUEUED
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"shot_count": 30}, "Choose between 1 and 24 shots."),
        ({"shot_count": 0}, "Choose between 1 and 24 shots."),
        ({"title": ""}, "This field is required."),
        ({"seconds_per_shot": 5}, "Select a valid choice. 5 is not one of the available choices."),
        ({"territory": "XX"}, "Select a valid choice. XX is not one of the available choices."),
        ({"release_date": "2001-01-01"}, "The release date cannot be in the past."),
        ({"budget_cap": "0"}, "A budget cap must be more than zero."),
    ],
)
def test_the_form_explains_what_is_wrong(client, overrides, message):
    signed_in(client, producer())

    response = client.post(reverse("briefs:create"), form_data(IPFactory(), **overrides))

    assert response.status_code == 200
    assert message in response.text
    assert not Brief.objects.exists()


def test_a_pinned_reference_not_cleared_for_the_territory_is_refused(client):
    ip = IPFactory()
    french_only = AssetFactory(ip=ip, title="Paris poster", rights=None)
    RightsFactory(asset=french_only, worldwide=False, territories=["FR"])
    signed_in(client, producer())

    response = client.post(
        reverse("briefs:create"), form_data(ip, pinned_references=[french_only.pk])
    )

    assert "“Paris poster” is not cleared: not licensed in GB" in response.text
    assert not Brief.objects.exists()


def test_a_pinned_reference_from_another_ip_is_refused(client):
    other = AssetFactory(title="Other world still")
    signed_in(client, producer())

    response = client.post(
        reverse("briefs:create"), form_data(IPFactory(), pinned_references=[other.pk])
    )

    assert "These references belong to another IP: Other world still." in response.text


def test_only_producers_open_the_form_and_catalog_admins_see_no_briefs(client):
    signed_in(client, director())
    assert client.get(reverse("briefs:create")).status_code == 403
    signed_in(client, catalog_admin())
    assert client.get(reverse("briefs:list")).status_code == 403


def test_producers_see_their_own_briefs_and_directors_see_all(client):
    mine = BriefFactory(title="Mine")
    theirs = BriefFactory(title="Theirs")

    signed_in(client, mine.producer)
    listing = client.get(reverse("briefs:list")).text
    assert "Mine" in listing and "Theirs" not in listing
    assert client.get(theirs.get_absolute_url()).status_code == 404

    signed_in(client, director())
    listing = client.get(reverse("briefs:list")).text
    assert "Mine" in listing and "Theirs" in listing


def test_the_brief_page_shows_shots_with_inline_video_checks_and_spend(client):
    brief = BriefFactory(status=Brief.Status.IN_REVIEW, status_reason="1 shot(s) ready for review")
    take = TakeFactory(shot=ShotFactory(brief=brief, order=1))
    signed_in(client, brief.producer)

    page = client.get(brief.get_absolute_url()).text

    assert reverse("briefs:take_media", args=[take.pk]) in page
    assert reverse("briefs:take_poster", args=[take.pk]) in page
    assert "<video" in page and "In review" in page
    assert "Waiting on a creative director to review 1 shot(s)." in page
    assert "hx-trigger" not in page  # nothing left for the pipeline: no polling


def test_the_live_panel_is_a_fragment_that_stops_polling_when_the_brief_is_idle(client):
    brief = BriefFactory(status=Brief.Status.GENERATING)
    TakeFactory(shot=ShotFactory(brief=brief, order=1), status=Take.Status.GENERATING, media="")
    signed_in(client, brief.producer)
    live = reverse("briefs:live", args=[brief.pk])

    polling = client.get(live, headers={"HX-Request": "true"})
    assert polling.status_code == 200
    assert polling.text.lstrip().startswith('<section id="brief-live"')
    assert "<html" not in polling.text and 'hx-trigger="every 2s"' in polling.text

    version = polling.text.split("?v=")[1].split('"')[0]
    unchanged = client.get(live, {"v": version}, headers={"HX-Request": "true"})
    assert unchanged.status_code == 204

    Brief.objects.filter(pk=brief.pk).update(status=Brief.Status.CANCELLED)
    Take.objects.update(status=Take.Status.CANCELLED)
    stopped = client.get(live, {"v": version}, headers={"HX-Request": "true"})
    assert stopped.status_code == 286
    assert "Cancelled" in stopped.text and "hx-trigger" not in stopped.text


def test_the_producer_cancels_a_running_brief(client):
    brief = BriefFactory(status=Brief.Status.GENERATING)
    signed_in(client, brief.producer)

    response = client.post(reverse("briefs:cancel", args=[brief.pk]), follow=True)

    brief.refresh_from_db()
    assert brief.status == Brief.Status.CANCELLED
    assert "Cancelled by" in response.text


def test_a_director_cannot_cancel_and_a_finished_brief_cannot_be_cancelled(client):
    brief = BriefFactory(status=Brief.Status.COMPLETED)
    signed_in(client, director())
    assert client.post(reverse("briefs:cancel", args=[brief.pk])).status_code == 403

    signed_in(client, brief.producer)
    response = client.post(
        reverse("briefs:cancel", args=[brief.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 409
    assert "already finished" in response.text


def test_a_director_edits_a_prompt_and_approves_the_plan(
    client, django_capture_on_commit_callbacks
):
    brief = BriefFactory(status=Brief.Status.AWAITING_PLAN_APPROVAL, requires_plan_approval=True)
    first = ShotFactory(brief=brief, order=1, status=Shot.Status.PLANNED, audio="Harbour wind.")
    second = ShotFactory(brief=brief, order=2, status=Shot.Status.PLANNED, audio="Gulls.")
    signed_in(client, director())
    page = client.get(brief.get_absolute_url()).text
    assert "Shot plan: waiting for approval" in page
    assert "Shot 1 · sound" in page and "Harbour wind." in page

    with django_capture_on_commit_callbacks() as callbacks:
        client.post(
            reverse("briefs:plan", args=[brief.pk]),
            {
                f"shot_{first.pk}": "Close-up: the lantern flickers",
                f"audio_{first.pk}": "A lantern's glass ticks as it cools; distant surf.",
                f"shot_{second.pk}": second.prompt,
                f"audio_{second.pk}": second.audio,
                "approve": "1",
            },
        )

    brief.refresh_from_db()
    first.refresh_from_db()
    assert brief.status == Brief.Status.GENERATING
    assert first.prompt == "Close-up: the lantern flickers"
    assert first.audio == "A lantern's glass ticks as it cools; distant surf."
    assert first.takes.get().prompt == "Close-up: the lantern flickers"
    assert len(callbacks) == 1
    assert brief.handoffs.get().step == "plan_gate"


def test_an_empty_prompt_keeps_the_plan_at_the_gate(client):
    brief = BriefFactory(status=Brief.Status.AWAITING_PLAN_APPROVAL, requires_plan_approval=True)
    shot = ShotFactory(brief=brief, order=1, status=Shot.Status.PLANNED)
    signed_in(client, brief.producer)

    response = client.post(
        reverse("briefs:plan", args=[brief.pk]), {f"shot_{shot.pk}": "  ", "approve": "1"}
    )

    assert response.status_code == 400
    assert "Shot 1 needs a prompt." in response.text
    assert Brief.objects.get(pk=brief.pk).status == Brief.Status.AWAITING_PLAN_APPROVAL


def test_a_sound_brief_keeps_its_plan_at_the_gate_while_a_shot_has_no_audio_line(client):
    brief = BriefFactory(
        status=Brief.Status.AWAITING_PLAN_APPROVAL,
        requires_plan_approval=True,
        sound=Brief.Sound.DIALOGUE,
    )
    shot = ShotFactory(brief=brief, order=1, status=Shot.Status.PLANNED, audio="Mira: “Light!”")
    signed_in(client, brief.producer)

    response = client.post(
        reverse("briefs:plan", args=[brief.pk]),
        {f"shot_{shot.pk}": shot.prompt, f"audio_{shot.pk}": " ", "approve": "1"},
    )

    assert response.status_code == 400
    assert "Shot 1 needs an audio line." in response.text
    assert Brief.objects.get(pk=brief.pk).status == Brief.Status.AWAITING_PLAN_APPROVAL
    assert Shot.objects.get(pk=shot.pk).audio == "Mira: “Light!”"


def test_a_silent_brief_asks_for_no_audio_lines_at_the_gate(client):
    brief = BriefFactory(
        status=Brief.Status.AWAITING_PLAN_APPROVAL,
        requires_plan_approval=True,
        sound=Brief.Sound.NONE,
    )
    shot = ShotFactory(brief=brief, order=1, status=Shot.Status.PLANNED)
    signed_in(client, brief.producer)

    assert "Shot 1 · sound" not in client.get(brief.get_absolute_url()).text
    client.post(reverse("briefs:plan", args=[brief.pk]), {f"shot_{shot.pk}": "Wide: the pier."})
    assert Shot.objects.get(pk=shot.pk).prompt == "Wide: the pier."


# --- media --------------------------------------------------------------------------------------
@pytest.fixture
def take(db):
    return TakeFactory()


def test_media_streams_whole_and_in_ranges_so_players_can_seek(client, take):
    signed_in(client, take.shot.brief.producer)
    url = reverse("briefs:take_media", args=[take.pk])
    whole = client.get(url)
    body = b"".join(whole.streaming_content)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Type"] == "video/mp4" and len(body) == take.byte_size

    part = client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(body)}"
    assert b"".join(part.streaming_content) == body[100:200]

    tail = client.get(url, headers={"Range": "bytes=-50"})
    assert b"".join(tail.streaming_content) == body[-50:]
    open_ended = client.get(url, headers={"Range": f"bytes={len(body) - 10}-"})
    assert open_ended["Content-Length"] == "10"


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=50-10", "bytes=abc"])
def test_unsatisfiable_ranges_get_416(client, take, header):
    signed_in(client, take.shot.brief.producer)

    response = client.get(reverse("briefs:take_media", args=[take.pk]), headers={"Range": header})

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{take.byte_size}"


def test_media_is_only_for_users_allowed_to_see_the_brief(client, take):
    url = reverse("briefs:take_poster", args=[take.pk])
    assert client.get(url).status_code == 302  # anonymous: to the sign-in page
    signed_in(client, producer())
    assert client.get(url).status_code == 404
    signed_in(client, director())
    poster = client.get(url)
    assert poster.status_code == 200 and poster["Content-Type"] == "image/png"
