"""Client review links: tokens, expiry, revocation, passwords, scoping, verdicts, limits, log."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse
from django.utils import timezone

from briefs.models import Handoff, Take
from reliability import autonomy, metrics
from reliability.models import AutonomyPolicy, ShadowPrediction
from review import client_links, selectors, services, signals
from review.client_links import ClientLinkError, Visitor
from review.models import ClientNote, ClientVerdict, Decision, ReviewLink, ReviewLinkEvent
from studio.secrets_store import hash_secret
from tests.factories.reliability import PolicyFactory
from tests.factories.review import board_brief, ready_take
from tests.factories.users import director, producer

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (ClientTest)"


def takes_of(brief) -> list[Take]:
    return list(Take.objects.filter(shot__brief=brief).order_by("shot__order"))


def share(brief, **kwargs) -> tuple[ReviewLink, str]:
    return client_links.link_create(
        brief=brief, user=brief.producer, label="Harbour Agency", **kwargs
    )


def open_as(client, token: str, name: str = "Ada Client", password: str = ""):
    data = {"name": name, **({"password": password} if password else {})}
    return client.post(f"/r/{token}/", data, headers={"User-Agent": BROWSER})


def media_url(token: str, take: Take, what: str = "media") -> str:
    return reverse(f"client_review:{what}", args=[token, take.pk])


# --- Tokens, expiry, revocation, passwords -----------------------------------------------------
def test_given_a_new_link_then_only_the_tokens_hash_is_stored_and_it_opens_the_link():
    brief = board_brief(shots=1)

    link, token = share(brief)

    link.refresh_from_db()
    assert len(token) >= 32
    assert link.token_hash == hash_secret(token)
    assert token not in {link.token_hash, link.token_prefix, link.password, link.label}
    assert client_links.link_for_token(token) == link
    assert client_links.link_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert link.expires_at - link.created_at == pytest.approx(timedelta(days=14), abs=timedelta(1))


def test_given_a_token_that_was_never_made_when_opened_then_404(client):
    board_brief(shots=1)

    assert client.get("/r/not-a-real-token-at-all-0123456789/").status_code == 404
    assert client.get("/r/" + "x" * 200 + "/").status_code == 404


def test_given_a_producer_of_another_brief_when_sharing_it_then_refused():
    brief = board_brief(shots=1)

    with pytest.raises(ClientLinkError):
        client_links.link_create(brief=brief, user=producer(), label="Sneaky")
    with pytest.raises(ClientLinkError):
        share(brief, expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ClientLinkError):
        share(brief, expires_at=timezone.now() + timedelta(days=365))


def test_given_an_expired_link_when_opened_then_410_says_when_it_expired(client):
    brief = board_brief(shots=1)
    (take,) = takes_of(brief)
    link, token = share(brief)
    open_as(client, token)
    past = timezone.now() - timedelta(days=1)
    ReviewLink.objects.filter(pk=link.pk).update(
        created_at=past - timedelta(days=14), expires_at=past
    )

    page = client.get(f"/r/{token}/")
    clip = client.get(media_url(token, take))

    assert page.status_code == 410
    assert "This review link expired on" in page.content.decode()
    assert past.strftime("%Y") in page.content.decode()
    assert clip.status_code == 410


def test_given_a_revoked_link_when_opened_or_posted_to_then_410_says_it_was_revoked(client):
    brief = board_brief(shots=1)
    (take,) = takes_of(brief)
    link, token = share(brief)
    open_as(client, token)
    assert client.get(media_url(token, take)).status_code == 200

    client_links.link_revoke(link=link, user=brief.producer)
    page = client.get(f"/r/{token}/")
    note = client.post(
        reverse("client_review:note", args=[token, take.pk]), {"body": "x", "timecode_start": 1}
    )

    assert page.status_code == 410
    assert "This review link was revoked" in page.content.decode()
    assert note.status_code == 410
    assert client.get(media_url(token, take)).status_code == 410
    assert ClientNote.objects.count() == 0
    link.refresh_from_db()
    assert link.revoked_by == brief.producer


def test_given_a_password_link_when_the_password_is_wrong_then_nothing_shows_and_it_is_logged(
    client,
):
    brief = board_brief(shots=1)
    (take,) = takes_of(brief)
    link, token = share(brief, password="lantern-42")

    gate = client.get(f"/r/{token}/")
    wrong = open_as(client, token, password="guess")
    clip = client.get(media_url(token, take))
    right = open_as(client, token, password="lantern-42")
    page = client.get(f"/r/{token}/")

    link.refresh_from_db()
    assert link.password != "lantern-42" and check_password("lantern-42", link.password)
    assert gate.status_code == 200 and "Your name" in gate.content.decode()
    assert 'name="password"' in gate.content.decode()
    assert wrong.status_code == 400
    assert "does not open this link" in wrong.content.decode()
    assert clip.status_code == 403
    assert right.status_code == 302
    assert page.status_code == 200
    assert media_url(token, take) in page.content.decode()
    kinds = list(link.events.order_by("at", "pk").values_list("kind", "viewer_name"))
    assert kinds == [("wrong_password", "Ada Client"), ("opened", "Ada Client")]


def test_given_a_link_when_first_opened_then_the_viewers_name_is_asked_and_kept_per_link(client):
    brief = board_brief(shots=1)
    _, token = share(brief)
    _, other_token = share(brief)

    first = client.get(f"/r/{token}/")
    open_as(client, token, name="Ben Buyer")
    page = client.get(f"/r/{token}/")
    other = client.get(f"/r/{other_token}/")

    assert "Your name" in first.content.decode()
    assert "Ben Buyer" in page.content.decode()
    assert "Your name" in other.content.decode()  # a name given on one link opens no other


# --- Scoping: only the linked shots, media only through the link --------------------------------
def test_given_a_link_to_one_shot_then_other_takes_are_404_through_it(client):
    brief = board_brief(shots=2)
    first, second = takes_of(brief)
    elsewhere = takes_of(board_brief(shots=1))[0]
    older = ready_take(shot=first.shot, number=2, is_current=False)
    _, token = share(brief, shot_ids=[first.shot_id])
    open_as(client, token)

    page = client.get(f"/r/{token}/").content.decode()

    assert f"shot-{first.shot_id}" in page and f"shot-{second.shot_id}" not in page
    assert client.get(media_url(token, first)).status_code == 200
    for take in (second, elsewhere, older):
        assert client.get(media_url(token, take)).status_code == 404
        assert client.get(media_url(token, take, "poster")).status_code == 404
        note = client.post(
            reverse("client_review:note", args=[token, take.pk]),
            {"body": "Sneaky", "timecode_start": 1},
        )
        verdict = client.post(
            reverse("client_review:verdict", args=[token, take.pk]), {"verdict": "approved"}
        )
        assert (note.status_code, verdict.status_code) == (404, 404)
    assert ClientNote.objects.count() == ClientVerdict.objects.count() == 0


def test_client_media_is_served_only_through_the_link_with_byte_ranges(client):
    brief = board_brief(shots=1)
    (take,) = takes_of(brief)
    _, token = share(brief)
    open_as(client, token)

    page = client.get(f"/r/{token}/").content.decode()
    ranged = client.get(media_url(token, take), headers={"Range": "bytes=0-99"})
    client.cookies.clear()
    without_session = client.get(media_url(token, take))
    studio_url = client.get(reverse("briefs:take_media", args=[take.pk]))

    # The page names no media URL but the link's own.
    assert "/briefs/takes/" not in page
    assert ranged.status_code == 206
    assert ranged["Content-Range"].startswith("bytes 0-99/")
    assert len(b"".join(ranged.streaming_content)) == 100
    assert without_session.status_code == 403
    assert studio_url.status_code == 302
    assert studio_url["Location"].startswith(reverse("login"))


# --- What clients say --------------------------------------------------------------------------
def test_given_a_client_approval_then_the_take_is_not_moved_and_no_decision_exists(
    client, django_capture_on_commit_callbacks
):
    brief = board_brief(shots=1)
    (take,) = takes_of(brief)
    link, token = share(brief)
    open_as(client, token)
    heard = []
    receiver = lambda sender, verdict, **kw: heard.append(verdict.pk)  # noqa: E731
    signals.client_verdict_given.connect(receiver)

    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("client_review:verdict", args=[token, take.pk]),
                {"verdict": "approved", "comment": "Lovely."},
                headers={"HX-Request": "true"},
            )
    finally:
        signals.client_verdict_given.disconnect(receiver)

    take.refresh_from_db()
    given = ClientVerdict.objects.get()
    assert response.status_code == 200
    assert "<html" not in response.content.decode()  # a fragment: the shot's card
    assert "Approved" in response.content.decode()
    assert (given.link, given.take, given.viewer_name) == (link, take, "Ada Client")
    assert (take.status, take.version) == (Take.Status.READY, 1)
    assert Decision.objects.count() == 0
    assert heard == [given.pk]


def test_given_changes_requested_without_a_comment_then_422_and_nothing_recorded(client):
    brief = board_brief(shots=1)
    (take,) = takes_of(brief)
    _, token = share(brief)
    open_as(client, token)

    response = client.post(
        reverse("client_review:verdict", args=[token, take.pk]),
        {"verdict": "changes_requested"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 422
    assert "Say what should change" in response.content.decode()
    assert ClientVerdict.objects.count() == 0


def test_client_approvals_change_no_approval_rate_or_autonomy_figure(
    client, django_capture_on_commit_callbacks
):
    brief = board_brief(shots=2)
    first, second = takes_of(brief)
    ada = director()

    with django_capture_on_commit_callbacks(execute=True):
        services.decide(take=first, user=ada, verdict="approved", expected_version=1)
    policy = PolicyFactory(mode=AutonomyPolicy.Mode.SHADOW)
    autonomy.on_take_ready(second)
    filters = metrics.Filters()

    def figures():
        return (
            metrics.approval_by_director(filters),
            metrics.approval_by_ip(filters),
            metrics.dashboard(filters).end_to_end,
            autonomy.agreement(policy),
            list(ShadowPrediction.objects.values_list("decided_at", "agreed")),
            Handoff.objects.count(),
            Decision.objects.count(),
        )

    before = figures()
    _, token = share(brief)
    open_as(client, token)
    with django_capture_on_commit_callbacks(execute=True):
        for take in (first, second):
            client.post(
                reverse("client_review:verdict", args=[token, take.pk]), {"verdict": "approved"}
            )

    assert ClientVerdict.objects.count() == 2
    assert ShadowPrediction.objects.filter(take=second, decided_at__isnull=True).exists()
    assert figures() == before
    second.refresh_from_db()
    policy.refresh_from_db()
    assert second.status == Take.Status.READY
    assert policy.mode == AutonomyPolicy.Mode.SHADOW


def test_a_timecoded_client_note_is_kept_apart_from_directors_notes(client):
    brief = board_brief(shots=1)
    (take,) = takes_of(brief)
    _, token = share(brief)
    open_as(client, token)

    response = client.post(
        reverse("client_review:note", args=[token, take.pk]),
        {"body": "Logo is too small here", "timecode_start": "2.25"},
    )
    outside = client.post(
        reverse("client_review:note", args=[token, take.pk]),
        {"body": "After the end", "timecode_start": "99"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/r/{token}/#shot-{take.shot_id}"
    assert outside.status_code == 302  # back to the page, with the error as a message
    note = ClientNote.objects.get()
    assert (note.body, note.timecode_start, note.viewer_name) == (
        "Logo is too small here",
        2.25,
        "Ada Client",
    )
    assert take.notes.count() == 0  # the directors' notes


# --- The board shows it as the client's ---------------------------------------------------------
def test_the_board_shows_client_verdicts_and_notes_as_the_clients(client):
    brief = board_brief(shots=1)
    (take,) = takes_of(brief)
    link, _ = share(brief)
    version = selectors.board_version(brief_id=brief.pk)
    visitor = Visitor(name="Cleo Client")
    client_links.client_note_add(
        link=link, take=take, visitor=visitor, body="Warmer light", timecode_start=1.5
    )
    client_links.client_verdict_give(
        link=link, take=take, visitor=visitor, verdict="changes_requested", comment="Warmer"
    )
    client.force_login(director())

    board = client.get(reverse("review:board", args=[brief.pk])).content.decode()
    card = client.get(reverse("review:shot_card", args=[take.shot_id])).content.decode()

    assert selectors.board_version(brief_id=brief.pk) != version
    assert "badge-client" in board and "Cleo Client: changes requested" in " ".join(board.split())
    assert "1 client note" in board
    assert "data-client-marker" in card and "data-client-verdict" in card
    assert "Cleo Client" in card and "Harbour Agency" in card
    # The directors' decision form is still there: the client decided nothing.
    assert "data-decision-form" in card


# --- Rate limits and the log -------------------------------------------------------------------
def test_given_too_many_notes_from_one_address_then_a_friendly_429_for_that_address_only(
    client, settings
):
    settings.REVIEW_LINK_RATE_LIMITS = {**settings.REVIEW_LINK_RATE_LIMITS, "note": 2}
    brief = board_brief(shots=1)
    (take,) = takes_of(brief)
    link, token = share(brief)
    open_as(client, token)
    url = reverse("client_review:note", args=[token, take.pk])

    answers = [
        client.post(url, {"body": f"Note {n}", "timecode_start": 1}).status_code for n in range(4)
    ]
    limited = client.post(url, {"body": "again", "timecode_start": 1})
    elsewhere = client.post(
        url, {"body": "From the office", "timecode_start": 1}, REMOTE_ADDR="10.1.2.3"
    )

    assert answers == [302, 302, 429, 429]
    assert "Please try again in about" in limited.content.decode()
    assert int(limited["Retry-After"]) > 0
    assert elsewhere.status_code == 302
    assert ClientNote.objects.count() == 3
    assert link.events.filter(kind=ReviewLinkEvent.Kind.RATE_LIMITED).count() == 1


def test_given_repeated_wrong_passwords_then_the_gate_is_rate_limited(client, settings):
    settings.REVIEW_LINK_RATE_LIMITS = {**settings.REVIEW_LINK_RATE_LIMITS, "password": 3}
    brief = board_brief(shots=1)
    _, token = share(brief, password="lantern-42")

    answers = [open_as(client, token, password=f"guess-{n}").status_code for n in range(3)]
    right_but_late = open_as(client, token, password="lantern-42")

    assert answers == [400, 400, 400]
    assert right_but_late.status_code == 429


def test_every_open_note_and_verdict_is_logged_with_address_and_browser(client):
    brief = board_brief(shots=1)
    (take,) = takes_of(brief)
    link, token = share(brief)
    open_as(client, token)
    client.get(f"/r/{token}/", headers={"User-Agent": BROWSER})
    client.get(f"/r/{token}/", headers={"User-Agent": BROWSER})
    client.post(
        reverse("client_review:note", args=[token, take.pk]),
        {"body": "Hold longer", "timecode_start": 1},
        headers={"User-Agent": BROWSER},
    )
    client.post(
        reverse("client_review:verdict", args=[token, take.pk]),
        {"verdict": "approved"},
        headers={"User-Agent": BROWSER},
    )
    client.force_login(brief.producer)

    page = client.get(reverse("review:client_links", args=[brief.pk])).content.decode()

    events = list(link.events.order_by("at", "pk"))
    assert [e.kind for e in events] == ["opened", "opened", "note", "verdict"]
    assert {(e.viewer_name, e.ip_address, e.user_agent) for e in events} == {
        ("Ada Client", "127.0.0.1", BROWSER)
    }
    assert "Gave a verdict: Approved: shot 1, take 1" in page
    assert '<td data-testid="opens">2</td>' in page


# --- The producer's page -----------------------------------------------------------------------
def test_the_producer_makes_a_link_sees_its_url_once_and_revokes_it(client):
    brief = board_brief(shots=2)
    first, _ = takes_of(brief)
    client.force_login(brief.producer)
    url = reverse("review:client_links", args=[brief.pk])

    made = client.post(
        url,
        {"label": "Harbour Agency", "days": 7, "password": "", "shots": [str(first.shot_id)]},
    )
    link = ReviewLink.objects.get()
    listed = client.get(url).content.decode()
    revoked = client.post(reverse("review:client_link_revoke", args=[link.pk]))

    shown = made.content.decode()
    assert made.status_code == 200 and "/r/" in shown
    token = shown.split('data-testid="new-link"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert token.endswith("/") and hash_secret(token.rstrip("/").rsplit("/", 1)[1]) == (
        link.token_hash
    )
    assert list(link.shots.all()) == [first.shot]
    assert link.expires_at - link.created_at == pytest.approx(timedelta(days=7), abs=timedelta(1))
    assert 'data-testid="new-link"' not in listed
    assert revoked.status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None


def test_only_people_who_see_the_brief_manage_its_links(client):
    brief = board_brief(shots=1)
    link, _ = share(brief)

    client.force_login(producer())
    assert client.get(reverse("review:client_links", args=[brief.pk])).status_code == 404
    assert client.post(reverse("review:client_link_revoke", args=[link.pk])).status_code == 404
    client.force_login(director())
    assert client.get(reverse("review:client_links", args=[brief.pk])).status_code == 200
    link.refresh_from_db()
    assert link.revoked_at is None


def test_a_board_poll_after_a_client_note_returns_that_shots_card_only(client):
    brief = board_brief(shots=2)
    first, _ = takes_of(brief)
    link, _ = share(brief)
    client.force_login(director())
    # The shots were last touched before the version the board saw (a poll includes its own time).
    earlier = timezone.now() - timedelta(hours=2)
    Take.objects.filter(shot__brief=brief).update(updated_at=earlier)
    brief.shots.update(updated_at=earlier)
    type(brief).objects.filter(pk=brief.pk).update(updated_at=earlier + timedelta(hours=1))
    seen = selectors.board_version(brief_id=brief.pk)

    client_links.client_note_add(
        link=link, take=first, visitor=Visitor(name="Cleo Client"), body="Hmm", timecode_start=1
    )
    poll = client.get(
        reverse("review:board_changes", args=[brief.pk]) + f"?since={seen}",
        headers={"HX-Request": "true"},
    )

    assert poll.status_code == 200
    page = poll.content.decode()
    assert f'id="shot-{first.shot_id}"' in page and "Cleo Client" in page
    assert f'id="shot-{takes_of(brief)[1].shot_id}"' not in page
