"""The sequence player in a real Chromium: gapless playback, keyboard, decisions, accessibility."""

import pytest
from playwright.sync_api import expect

from briefs.models import Take
from review import cut, services
from review.models import Decision, Note
from tests.browser import axe_violations, describe_violations, screenshot, sign_in, wait_until
from tests.factories.review import board_brief
from tests.factories.users import TEST_PASSWORD, director

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Records, on the page, when a deck ends and the first frame the other deck then presents.
WATCH_DECKS = """() => {
  window.seqEvents = [];
  const decks = Array.from(document.querySelectorAll('[data-seq-video]'));
  const shot = () => document.querySelector('[data-sequence]').dataset.activeShot;
  // Captured on the document, so it runs before the player's own handler swaps the decks.
  document.addEventListener('ended', (event) => window.seqEvents.push({
    type: 'ended', deck: decks.indexOf(event.target), time: event.target.currentTime,
    duration: event.target.duration, shot: shot(),
  }), true);
  decks.forEach((video, deck) => video.addEventListener('playing', () => {
    video.requestVideoFrameCallback((now, frame) => window.seqEvents.push({
      type: 'frame', deck, mediaTime: frame.mediaTime, shot: shot(),
    }));
  }));
}"""


def events_until_second_deck_shows_a_frame(page) -> list[dict]:
    return wait_until(
        page,
        "() => window.seqEvents.some(e => e.type === 'frame' && e.deck === 1) && window.seqEvents",
    )


def test_given_two_shots_when_played_then_the_last_frame_of_one_cuts_to_the_first_of_the_next(
    page,
):
    brief = board_brief(shots=2)
    sign_in(page, director().username, TEST_PASSWORD)
    page.goto(f"/review/briefs/{brief.pk}/sequence/")
    player = page.locator("[data-sequence]")
    decks = page.locator("[data-seq-video]")
    expect(decks.nth(0)).to_have_js_property("readyState", 4)
    # The next shot waits on the hidden deck, loaded, before playback starts.
    expect(decks.nth(1)).to_have_js_property("readyState", 4)
    page.evaluate(WATCH_DECKS)

    page.keyboard.press("Space")

    expect(player).to_have_attribute("data-active-shot", "Shot 2", timeout=10000)
    events = events_until_second_deck_shows_a_frame(page)
    ended = next(e for e in events if e["type"] == "ended")
    first_frame = next(e for e in events if e["type"] == "frame" and e["deck"] == 1)
    assert (ended["deck"], ended["shot"]) == (0, "Shot 1")
    assert ended["time"] == pytest.approx(ended["duration"], abs=0.01)
    assert first_frame["shot"] == "Shot 2" and first_frame["mediaTime"] < 0.2
    second = decks.nth(1)
    assert second.evaluate("v => !v.paused && v.currentTime < 1.5")
    expect(second).to_have_class("is-active")
    expect(page.locator("[data-seq-shot-label]")).to_have_text("Shot 2 · Ready for review")
    screenshot(page, "review-sequence")


def test_given_the_player_when_keys_are_pressed_then_shots_change_and_frames_step(page):
    brief = board_brief(shots=3)
    sign_in(page, director().username, TEST_PASSWORD)
    page.goto(f"/review/briefs/{brief.pk}/sequence/")
    player = page.locator("[data-sequence]")
    expect(page.locator("[data-seq-video]").nth(0)).to_have_js_property("readyState", 4)

    page.keyboard.press("n")
    page.keyboard.press("n")
    expect(player).to_have_attribute("data-active-shot", "Shot 3")
    page.keyboard.press("p")
    expect(player).to_have_attribute("data-active-shot", "Shot 2")
    expect(page.locator("[data-announcer]")).to_have_text("Shot 2, Ready for review")
    page.keyboard.press(".")
    page.keyboard.press(".")
    expect(page.locator("[data-seq-time]")).to_have_text("00:04.08")
    page.keyboard.press(",")
    expect(page.locator("[data-seq-time]")).to_have_text("00:04.04")
    # M mutes both decks, so the next cut stays silent; the button says so to a screen reader.
    page.keyboard.press("m")
    mute = page.locator("[data-seq-mute]")
    expect(mute).to_have_attribute("aria-pressed", "true")
    expect(mute).to_have_text("Unmute")
    assert page.evaluate(
        "() => [...document.querySelectorAll('[data-seq-video]')].map(v => v.muted)"
    ) == [True, True]
    mute.click()
    assert page.evaluate(
        "() => [...document.querySelectorAll('[data-seq-video]')].map(v => v.muted)"
    ) == [False, False]


def test_given_a_director_when_approving_from_the_player_then_the_shot_under_the_playhead_is(
    page,
):
    brief = board_brief(shots=2)
    sign_in(page, director().username, TEST_PASSWORD)
    page.goto(f"/review/briefs/{brief.pk}/sequence/")
    expect(page.locator("[data-seq-video]").nth(0)).to_have_js_property("readyState", 4)

    page.keyboard.press("n")
    page.get_by_role("button", name="Approve shot").click()

    expect(page.locator("[data-seq-flash]")).to_have_text("Take 1 of shot 2 approved.")
    expect(page.locator("[data-seq-shot-label]")).to_have_text("Shot 2 · Approved")
    take = Take.objects.get(shot__brief=brief, shot__order=2)
    assert take.status == "approved"
    assert Decision.objects.get().take_id == take.pk


def test_given_someone_decided_first_when_deciding_from_the_player_then_409_is_told_and_can_reapply(
    page,
):
    brief = board_brief(shots=1)
    take = Take.objects.get(shot__brief=brief)
    sign_in(page, director(first_name="Bo").username, TEST_PASSWORD)
    page.goto(f"/review/briefs/{brief.pk}/sequence/")
    expect(page.locator("[data-seq-video]").nth(0)).to_have_js_property("readyState", 4)
    ana = director(first_name="Ana", last_name="Reyes")
    services.decide(
        take=take, user=ana, verdict="rejected", expected_version=1, reason_code="artefacts"
    )

    page.get_by_role("button", name="Approve shot").click()

    error = page.locator("[data-seq-error]")
    expect(error).to_contain_text("Ana Reyes rejected (Artefacts) take 1")
    expect(error).to_contain_text("Your approval was not applied.")
    expect(page.locator("[data-seq-shot-label]")).to_have_text("Shot 1 · Rejected")
    take.refresh_from_db()
    assert take.status == "rejected"
    page.get_by_role("button", name="Approve shot").click()
    expect(page.locator("[data-seq-shot-label]")).to_have_text("Shot 1 · Approved")
    assert list(Decision.objects.order_by("pk").values_list("verdict", "applied")) == [
        ("rejected", True),
        ("approved", False),
        ("approved", True),
    ]


def test_given_a_producer_when_noting_from_the_player_then_the_note_is_a_marker_at_that_time(page):
    brief = board_brief(shots=2)
    sign_in(page, brief.producer.username, TEST_PASSWORD)
    page.goto(f"/review/briefs/{brief.pk}/sequence/")
    expect(page.locator("[data-seq-video]").nth(0)).to_have_js_property("readyState", 4)
    expect(page.get_by_role("button", name="Approve shot")).to_have_count(0)

    page.keyboard.press("n")
    for _ in range(3):
        page.keyboard.press(".")
    page.get_by_label("Note at").fill("The light jumps at the cut")
    page.get_by_role("button", name="Add note").click()

    expect(page.locator("[data-seq-flash]")).to_have_text("Note added.")
    expect(page.locator(".seq-markers .marker")).to_have_count(1)
    note = Note.objects.get()
    assert note.take.shot.order == 2 and note.timecode_start == pytest.approx(0.12, abs=0.01)


def test_given_the_sequence_page_with_a_rendered_cut_then_axe_finds_no_wcag_violations(page):
    brief = board_brief(shots=3, notes_per_take=1)
    dana = director()
    services.decide(
        take=Take.objects.get(shot__brief=brief, shot__order=1),
        user=dana,
        verdict="approved",
        expected_version=1,
    )
    cut.render_cut(cut_id=services.request_cut(brief=brief, user=dana).pk)
    sign_in(page, dana.username, TEST_PASSWORD)
    page.goto(f"/review/briefs/{brief.pk}/sequence/")
    expect(page.locator("[data-sequence]")).to_be_visible()

    expect(
        page.get_by_role("link", name="Download the approved cut (MP4, 00:04.00)")
    ).to_be_visible()
    violations = axe_violations(page)

    assert violations == [], describe_violations(violations)


def test_given_two_directors_in_one_playlist_when_one_decides_then_the_other_sees_it_live(
    browser, live_server, settings
):
    settings.REVIEW_POLL_SECONDS = 1
    harbour, market = board_brief(shots=1, title="Harbour"), board_brief(shots=1, title="Market")
    ana, bo = director(first_name="Ana"), director(first_name="Bo")
    playlist = services.playlist_create(
        user=ana,
        name="Tuesday dailies",
        shot_ids=[Take.objects.get(shot__brief=b).shot_id for b in (market, harbour)],
    )
    pages = []
    for user in (ana, bo):
        context = browser.new_context(base_url=live_server.url)
        pages.append(context.new_page())
        sign_in(pages[-1], user.username, TEST_PASSWORD)
        pages[-1].goto(f"/review/dailies/{playlist.pk}/")
    first, second = pages
    expect(first.locator("[data-seq-shot-label]")).to_have_text(
        "Market · shot 1 · Ready for review"
    )

    first.get_by_role("button", name="Approve shot").click()

    expect(second.locator(".seq-session")).to_contain_text("Ana approved Market · shot 1, take 1")
    expect(second.locator("[data-seq-shot-label]")).to_have_text("Market · shot 1 · Approved")
    assert Decision.objects.get().playlist_id == playlist.pk
    screenshot(second, "review-dailies")
    for page in pages:
        page.context.close()


def test_given_the_dailies_and_a_playlist_page_then_axe_finds_no_wcag_violations(page):
    brief = board_brief(shots=2, notes_per_take=1)
    dana = director()
    playlist = services.playlist_create(
        user=dana,
        name="Tuesday dailies",
        shot_ids=list(Take.objects.filter(shot__brief=brief).values_list("shot_id", flat=True)),
    )
    sign_in(page, dana.username, TEST_PASSWORD)

    for url in ("/review/dailies/", f"/review/dailies/{playlist.pk}/"):
        page.goto(url)
        violations = axe_violations(page)
        assert violations == [], f"{url}\n" + describe_violations(violations)
