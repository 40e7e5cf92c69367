"""The review pages over HTTP: board, queue, cards, decisions, notes, polling, export."""

import io
import json
import zipfile

import opentimelineio as otio
import pytest
from django.urls import reverse
from django.utils.timezone import now

from briefs.models import Brief, Take
from retrieval.models import Asset
from review import services
from review.models import Decision, Note
from tests.factories.briefs import BriefFactory, ShotFactory
from tests.factories.review import board_brief, ready_take
from tests.factories.users import catalog_admin, catalog_director, director, producer

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(client, user):
    client.force_login(user)
    return client


def take_of(brief, order: int = 1) -> Take:
    return Take.objects.select_related("shot__brief").get(shot__brief=brief, shot__order=order)


def test_full_board_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    brief = board_brief(shots=55, notes_per_take=2)
    services.decide(
        take=take_of(brief, 3),
        user=director(first_name="Ana"),
        verdict="approved",
        expected_version=1,
    )
    signed_in(client, director())

    with django_assert_max_num_queries(15):
        response = client.get(reverse("review:board", args=[brief.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("data-shot-card") == 55
    assert html.count("2 notes · 1 take") == 55
    assert html.count('hx-trigger="intersect once, review:open once"') == 55
    assert "last: Ana approved" in html


def test_reloaded_board_shows_each_change_to_a_card_never_a_stale_copy(client):
    # given a board a director has already loaded once (its compact cards are now cached)
    brief = board_brief(shots=3, notes_per_take=0)
    signed_in(client, director(first_name="Ana"))
    url = reverse("review:board", args=[brief.pk])
    first = client.get(url).content.decode()
    assert "last: Ana" not in first and "1 note ·" not in first

    # when one take is approved and another gets a note
    services.decide(
        take=take_of(brief, 1),
        user=director(first_name="Ana"),
        verdict="approved",
        expected_version=1,
    )
    services.add_note(
        take=take_of(brief, 2), user=producer(), body="Fog too thin", timecode_start=1
    )

    # then the next load shows both changes, and the third card as it was
    html = client.get(url).content.decode()
    assert html.count("last: Ana approved") == 1
    assert html.count("1 note · 1 take") == 1
    assert html.count("0 notes · 1 take") == 2


def test_every_card_opened_in_full_at_once_still_costs_a_fixed_number_of_queries(
    client, django_assert_max_num_queries
):
    brief = board_brief(shots=55, notes_per_take=2)
    signed_in(client, director())
    version = client.get(reverse("review:board", args=[brief.pk])).context["version"]
    Take.objects.filter(shot__brief=brief).update(status=Take.Status.ROUTED, updated_at=now())

    # 16 since teams: the viewer's roles on the brief's IP are one more read per request.
    with django_assert_max_num_queries(16):
        response = client.get(
            reverse("review:board_changes", args=[brief.pk]), {"since": version}, **HTMX
        )

    html = response.content.decode()
    assert html.count('hx-swap-oob="true"') == 55 and html.count('class="marker') == 110


def test_opened_card_shows_player_prompt_references_checks_and_trail(client):
    brief = board_brief(shots=1, checklist=["on-model"])
    take = take_of(brief)
    Note.objects.create(take=take, user=brief.producer, body="Boat drifts", timecode_start=2.0)
    signed_in(client, director())

    html = client.get(reverse("review:shot_card", args=[take.shot_id]), **HTMX).content.decode()

    assert html.lstrip().startswith("<article")
    assert "Shot 1: the pier at dusk." in html
    assert reverse("briefs:take_media", args=[take.pk]) in html
    assert reverse("briefs:take_poster", args=[take.pk]) in html
    assert "still 1" in html and "Rights cleared" in html and "not_blank" in html
    reference = take.references.order_by("title").first()
    part = "thumbnail" if reference.thumbnail else "file"
    assert reverse("retrieval:asset_file", args=[reference.pk, part]) in html
    assert "on-model" in html and "Boat drifts" in html and 'data-seek="2.000000"' in html
    assert 'data-style="left: 50.00%;' in html


def test_card_link_without_javascript_opens_the_shot_in_full_on_its_own_page(client):
    brief = board_brief(shots=2)
    take = take_of(brief, 2)
    signed_in(client, director())

    html = client.get(reverse("review:shot_card", args=[take.shot_id])).content.decode()

    assert "<html" in html and html.count("data-shot-card") == 1
    assert reverse("briefs:take_media", args=[take.pk]) in html and "All shots" in html


def test_approve_without_javascript_redirects_back_to_the_card(client):
    brief = board_brief(shots=1)
    take = take_of(brief)
    signed_in(client, director())

    response = client.post(
        reverse("review:decide", args=[take.pk]), {"verdict": "approved", "version": 1}
    )

    assert response.status_code == 302
    assert response.url.endswith(f"#shot-{take.shot_id}")
    take.refresh_from_db()
    assert take.status == Take.Status.APPROVED


def test_htmx_reject_returns_just_the_updated_card(client):
    brief = board_brief(shots=1)
    take = take_of(brief)
    signed_in(client, director(first_name="Dana"))

    response = client.post(
        reverse("review:decide", args=[take.pk]),
        {"verdict": "rejected", "version": 1, "reason": "continuity", "reason_text": "Coat"},
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith("<article") and "<html" not in html
    assert "Continuity" in html and "Coat" in html and "Dana" in html
    assert "review:decided" in response["HX-Trigger"]


def test_conflicting_decision_answers_409_naming_the_first_decision(client):
    brief = board_brief(shots=1)
    take = take_of(brief)
    services.decide(
        take=take, user=director(first_name="Ana"), verdict="approved", expected_version=1
    )
    signed_in(client, director(first_name="Bo"))

    response = client.post(
        reverse("review:decide", args=[take.pk]),
        {"verdict": "rejected", "version": 1, "reason": "artefacts"},
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 409
    assert "Ana" in html and "approved take 1" in html and "not applied" in html
    assert "Re-apply my rejection anyway" in html
    assert Decision.objects.filter(applied=False, verdict="rejected").count() == 1


def test_conflict_without_javascript_is_a_409_board_page(client):
    brief = board_brief(shots=1)
    take = take_of(brief)
    services.decide(
        take=take, user=director(first_name="Ana"), verdict="approved", expected_version=1
    )
    signed_in(client, director())

    response = client.post(
        reverse("review:decide", args=[take.pk]), {"verdict": "approved", "version": 1}
    )

    assert response.status_code == 409
    assert (
        "<html" in response.content.decode()
        and "Someone decided first" in response.content.decode()
    )


def test_producer_sees_the_board_may_note_but_not_decide(client):
    brief = board_brief(shots=1)
    take = take_of(brief)
    signed_in(client, brief.producer)

    board = client.get(reverse("review:shot_card", args=[take.shot_id]), **HTMX).content.decode()
    decided = client.post(
        reverse("review:decide", args=[take.pk]), {"verdict": "approved", "version": 1}
    )
    noted = client.post(
        reverse("review:add_note", args=[take.pk]),
        {
            "body": "Brand colour off",
            "timecode_start": "1.2",
            "rect": '{"x":0.1,"y":0.1,"w":0.2,"h":0.2}',
        },
        **HTMX,
    )

    assert "Only creative directors decide" in board and "data-decision-form" not in board
    assert decided.status_code == 403
    assert noted.status_code == 200 and "Brand colour off" in noted.content.decode()
    assert Note.objects.get().rect == {"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2}


@pytest.mark.parametrize("url_name", ["review:queue"])
def test_producers_and_catalog_admins_are_kept_out_of_the_queue(client, url_name):
    for user in (producer(), catalog_admin()):
        assert signed_in(client, user).get(reverse(url_name)).status_code == 403


def test_catalog_admin_cannot_open_a_board(client):
    brief = board_brief(shots=1)
    assert (
        signed_in(client, catalog_admin()).get(reverse("review:board", args=[brief.pk])).status_code
        == 403
    )


def test_queue_puts_routed_takes_first_with_reasons_then_ready_oldest_first(client):
    brief = board_brief(shots=3)
    ready_first, ready_second, routed = (take_of(brief, n) for n in (1, 2, 3))
    Take.objects.filter(pk=routed.pk).update(
        status=Take.Status.ROUTED,
        status_reason="Palette far from the references",
        checks=[
            {
                "name": "palette",
                "passed": False,
                "value": 31,
                "limit": "<= 20",
                "reason": "palette distance 31 > 20",
            }
        ],
    )
    Take.objects.filter(pk=ready_second.pk).update(
        created_at=ready_first.created_at.replace(year=ready_first.created_at.year - 1)
    )
    signed_in(client, director())

    html = client.get(reverse("review:queue")).content.decode()
    filtered = client.get(reverse("review:queue"), {"reason": "palette"}, **HTMX).content.decode()

    positions = [
        html.index(f"shot {t.shot.order} · take") for t in (routed, ready_second, ready_first)
    ]
    assert positions == sorted(positions)
    assert "Palette far from the references" in html and "palette distance 31 &gt; 20" in html
    assert "shot 3 · take" in filtered and "shot 1 · take" not in filtered
    assert "<html" not in filtered


def test_poll_answers_204_until_something_changes_then_sends_the_changed_card(client):
    brief = board_brief(shots=2)
    signed_in(client, director())
    page = client.get(reverse("review:board", args=[brief.pk]))
    version = page.context["version"]
    url = reverse("review:board_changes", args=[brief.pk])

    unchanged = client.get(url, {"since": version}, **HTMX)
    services.add_note(take=take_of(brief, 2), user=director(), body="New", timecode_start=1)
    changed = client.get(url, {"since": version}, **HTMX)

    assert unchanged.status_code == 204 and unchanged.content == b""
    html = changed.content.decode()
    assert changed.status_code == 200
    assert f'id="shot-{take_of(brief, 2).shot_id}"' in html and 'hx-swap-oob="true"' in html
    assert f'id="shot-{take_of(brief, 1).shot_id}"' not in html
    assert 'id="board-poll"' in html and version not in html


def test_card_partial_can_show_an_earlier_take(client):
    brief = board_brief(shots=1)
    old = take_of(brief)
    services.reprompt(take=old, user=director(), prompt="New", negative_prompt="", reference_ids=[])
    signed_in(client, director())

    html = client.get(
        reverse("review:shot_card", args=[old.shot_id]), {"take": old.pk}, **HTMX
    ).content.decode()

    assert "take 1</span>" in html and "Queued" in html


def test_reprompt_form_is_prefilled_from_the_take_and_its_notes(client):
    brief = board_brief(shots=1)
    take = take_of(brief)
    services.add_note(take=take, user=director(), body="Warmer light.", timecode_start=1.5)
    signed_in(client, director())

    html = client.get(reverse("review:reprompt", args=[take.pk])).content.decode()

    assert "Shot 1: the pier at dusk." in html
    assert "Review fixes: at 1.5 s: warmer light." in html
    assert html.count("checked") >= 2


def test_compare_diffs_prompts_and_configs(client):
    brief = board_brief(shots=1)
    old = take_of(brief)
    new = ready_take(shot=old.shot, number=2, prompt="Shot 1: the pier at night.", is_current=False)
    signed_in(client, brief.producer)

    html = client.get(reverse("review:compare"), {"a": old.pk, "b": new.pk}).content.decode()

    assert "take 1 vs take 2" in html.lower()
    assert "<del>dusk.</del>" in html and "<ins>night.</ins>" in html
    assert 'class="diff-del"' in html and "data-compare-video" in html


def test_export_zip_holds_media_manifest_csv_and_an_otio_timeline_of_approved_shots(client):
    brief = board_brief(shots=3, title="Harbour Lights")
    dana = director(first_name="Dana", last_name="Okafor")
    for order in (3, 1):
        services.decide(
            take=take_of(brief, order), user=dana, verdict="approved", expected_version=1
        )
    signed_in(client, brief.producer)

    response = client.get(reverse("review:export", args=[brief.pk]))

    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = set(archive.namelist())
    assert {
        "manifest.json",
        "shots.csv",
        "harbour-lights.otio",
        "media/shot-01-take-01.mp4",
        "media/shot-03-take-01.mp4",
    } == names
    manifest = json.loads(archive.read("manifest.json"))
    assert [t["shot"]["order"] for t in manifest["takes"]] == [1, 3]
    entry = manifest["takes"][0]
    assert entry["decisions"][0]["by"] == "Dana Okafor" and entry["decisions"][0]["at"]
    assert entry["references"][0]["rights"]["worldwide"] is True
    assert entry["take"]["seed"] == 1001 and entry["take"]["model"] == "local-veo"
    assert entry["checks"]["findings"][0]["name"] == "not_blank"
    assert archive.read("media/shot-01-take-01.mp4")[4:8] == b"ftyp"
    assert "shot,take,duration_s" in archive.read("shots.csv").decode()
    timeline = otio.adapters.read_from_string(
        archive.read("harbour-lights.otio").decode(), "otio_json"
    )
    clips = list(timeline.find_clips())
    assert [c.media_reference.target_url for c in clips] == [
        "media/shot-01-take-01.mp4",
        "media/shot-03-take-01.mp4",
    ]
    assert timeline.duration().to_seconds() == pytest.approx(8.0)


def test_export_refuses_when_nothing_is_approved(client):
    brief = board_brief(shots=1)
    signed_in(client, director())

    response = client.get(reverse("review:export", args=[brief.pk]), follow=True)

    assert "no shot of this brief has an approved take" in response.content.decode()


def test_export_is_for_signed_in_humans_only(client):
    brief = board_brief(shots=1)
    response = client.get(reverse("review:export", args=[brief.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_promote_view_adds_the_clip_to_the_catalog(client):
    brief = board_brief(shots=1)
    take = take_of(brief)
    services.decide(take=take, user=director(), verdict="approved", expected_version=1)
    signed_in(client, catalog_director())

    response = client.post(reverse("review:promote", args=[take.pk]), follow=True)

    assert "is now in the catalog" in response.content.decode()


@pytest.mark.parametrize("who", ["director", "own producer"])
def test_given_no_catalog_admin_role_when_posting_promote_then_403_and_no_button(client, who):
    brief = board_brief(shots=1)
    take = take_of(brief)
    services.decide(take=take, user=director(), verdict="approved", expected_version=1)
    signed_in(client, director() if who == "director" else brief.producer)
    promote_url = reverse("review:promote", args=[take.pk])

    card = client.get(reverse("review:shot_card", args=[take.shot_id]))
    response = client.post(promote_url)

    assert card.status_code == 200 and "Approved" in card.content.decode()
    assert "Promote to catalog" not in card.content.decode()
    assert response.status_code == 403
    assert not Asset.objects.filter(source="generated").exists()


def test_given_a_director_who_is_catalog_admin_when_viewing_the_board_then_promote_shows(client):
    brief = board_brief(shots=1)
    take = take_of(brief)
    services.decide(take=take, user=director(), verdict="approved", expected_version=1)
    signed_in(client, catalog_director())

    card = client.get(reverse("review:shot_card", args=[take.shot_id]))

    assert "Promote to catalog" in card.content.decode()


def test_board_of_a_brief_still_planning_says_so(client):
    brief = BriefFactory(status=Brief.Status.PLANNING)
    ShotFactory(brief=brief, order=1)
    signed_in(client, director())

    html = client.get(reverse("review:board", args=[brief.pk])).content.decode()

    assert "No take yet" in html


def test_producers_only_see_boards_of_their_own_briefs(client):
    brief = board_brief(shots=1)
    take = take_of(brief)
    signed_in(client, producer())

    assert client.get(reverse("review:board", args=[brief.pk])).status_code == 404
    noted = client.post(
        reverse("review:add_note", args=[take.pk]), {"body": "x", "timecode_start": 1}
    )
    assert noted.status_code == 404
    assert not Note.objects.exists()


def test_failed_checks_with_a_time_range_are_automatic_markers_on_the_timeline(client):
    brief = board_brief(shots=1)
    take = Take.objects.get(shot__brief=brief)
    black = {"name": "black", "passed": False, "value": 1.0, "limit": "< 0.25 s"}
    Take.objects.filter(pk=take.pk).update(
        status=Take.Status.ROUTED,
        checks=[
            black | {"reason": "black from 0.00 s to 1.00 s", "start_s": 0.0, "end_s": 1.0},
            {"name": "duration", "passed": True, "value": 4.0, "limit": "4 s", "reason": ""},
        ],
    )
    client.force_login(director())

    html = client.get(reverse("review:shot_card", args=[take.shot_id]), **HTMX).content.decode()

    assert html.count("data-qc-marker=") == 1
    assert 'data-qc-marker="black"' in html and 'data-seek="0.000000"' in html
    assert "Automatic check black failed from 00:00.00 to 00:01.00" in html
