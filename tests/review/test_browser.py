"""The review board in a real Chromium: keyboard flow, notes, re-prompt, compare, bulk, races."""

import re

import pytest
from playwright.sync_api import expect

from briefs.models import Take
from review import services
from review.models import Decision, Note
from tests.browser import screenshot, sign_in
from tests.factories.review import board_brief, ready_take
from tests.factories.users import TEST_PASSWORD, director

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def card(page, take: Take):
    return page.locator(f"#shot-{take.shot_id}")


def takes_of(brief) -> list[Take]:
    return list(Take.objects.filter(shot__brief=brief).order_by("shot__order"))


def test_keyboard_flow_approves_rejects_with_reason_and_shows_help(page):
    brief = board_brief(shots=3, checklist=["On-model character", "Palette"])
    first, second, third = takes_of(brief)
    dana = director(first_name="Dana", last_name="Okafor")
    sign_in(page, dana.username, TEST_PASSWORD)

    page.goto(f"/review/briefs/{brief.pk}/")
    expect(card(page, second).locator("video")).to_have_count(1)
    screenshot(page, "review-board")
    card(page, first).focus()
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    screenshot(page, "review-help")
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    expect(card(page, first).locator("[data-take-status]")).to_have_text("Approved")
    expect(card(page, second)).to_be_focused()
    page.keyboard.press("j")
    expect(card(page, third)).to_be_focused()
    page.keyboard.press("2")
    page.keyboard.press("r")

    expect(card(page, third).locator("[data-take-status]")).to_have_text("Rejected")
    expect(card(page, third)).to_contain_text("Character inconsistency")
    expect(card(page, third)).to_contain_text("Dana Okafor")
    assert list(Decision.objects.order_by("pk").values_list("take_id", "verdict", "reason")) == [
        (first.pk, "approved", ""),
        (third.pk, "rejected", "character_inconsistency"),
    ]
    screenshot(page, "review-board-decided")


def test_note_at_a_timecode_with_a_region_becomes_a_marker_that_seeks(page):
    brief = board_brief(shots=1)
    (take,) = takes_of(brief)
    sign_in(page, brief.producer.username, TEST_PASSWORD)
    page.goto(f"/review/briefs/{brief.pk}/")
    shot = card(page, take)
    video = shot.locator("video")
    expect(video).to_have_js_property("readyState", 4, timeout=15000)

    video.evaluate("v => { v.currentTime = 2.5; }")
    shot.focus()
    page.keyboard.press("n")
    expect(shot.locator("[data-note-start]")).to_have_value("2.50")
    shot.get_by_role("button", name="Draw region").click()
    box = shot.locator("[data-frame]").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5, steps=4)
    page.mouse.up()
    shot.locator("[data-note-body]").fill("Lantern glow clips here")
    shot.get_by_role("button", name="Add note").click()

    marker = card(page, take).locator(".marker")
    expect(marker).to_have_count(1)
    video = card(page, take).locator("video")
    video.evaluate("v => { v.currentTime = 0; }")
    marker.click()
    expect(video).to_have_js_property("paused", True)
    assert video.evaluate("v => v.currentTime") == pytest.approx(2.5, abs=0.05)
    expect(card(page, take).locator(".rect")).to_be_visible()
    note = Note.objects.get()
    assert note.timecode_start == 2.5
    assert note.rect["x"] == pytest.approx(0.2, abs=0.03) and note.rect["w"] > 0.3
    screenshot(page, "review-note-marker")


def test_reprompt_from_a_card_creates_a_new_queued_take(page):
    brief = board_brief(shots=1)
    (take,) = takes_of(brief)
    sign_in(page, director().username, TEST_PASSWORD)
    page.goto(f"/review/briefs/{brief.pk}/")

    card(page, take).get_by_role("link", name="Re-prompt…").click()
    prompt = page.get_by_label("Prompt", exact=True)
    expect(prompt).to_have_value(re.compile("the pier at dusk"))
    prompt.fill("Shot 1: the pier at night, every lantern lit.")
    screenshot(page, "review-reprompt")
    page.get_by_role("button", name="Generate new take").click()

    expect(page.get_by_text("Take 2 of shot 1 is generating.")).to_be_visible()
    expect(card(page, take).locator("[data-take-status]")).to_have_text("Queued")
    new = Take.objects.get(shot=take.shot, number=2)
    assert (new.status, new.is_current, new.parent_id) == ("queued", True, take.pk)
    assert new.prompt == "Shot 1: the pier at night, every lantern lit."


def test_compare_plays_both_takes_in_sync_and_diffs_the_prompts(page):
    brief = board_brief(shots=1)
    (old,) = takes_of(brief)
    new = ready_take(shot=old.shot, number=2, prompt="Shot 1: the pier at night.", is_current=False)
    sign_in(page, director().username, TEST_PASSWORD)
    page.goto(f"/review/briefs/{brief.pk}/")

    expect(card(page, old).get_by_role("link", name="compare")).to_be_visible()
    card(page, old).focus()
    page.keyboard.press("c")
    expect(page).to_have_url(re.compile(r"/review/compare/"))
    videos = page.locator("[data-compare-video]")
    for index in (0, 1):
        expect(videos.nth(index)).to_have_js_property("readyState", 4, timeout=15000)
    page.get_by_role("button", name="Play both").click()
    page.wait_for_timeout(1200)
    page.get_by_role("button", name="Pause both").click()

    times = [videos.nth(i).evaluate("v => v.currentTime") for i in (0, 1)]
    assert times[0] > 0.5 and abs(times[0] - times[1]) < 0.25
    expect(page.locator(".prompt-diff del")).to_have_text("dusk.")
    expect(page.locator(".prompt-diff ins")).to_have_text("night.")
    assert {old.pk, new.pk} == {int(x) for x in re.findall(r"[ab]=(\d+)", page.url)}
    screenshot(page, "review-compare")


def test_bulk_reject_with_one_reason(page):
    brief = board_brief(shots=3)
    first, second, third = takes_of(brief)
    sign_in(page, director().username, TEST_PASSWORD)
    page.goto(f"/review/briefs/{brief.pk}/")

    card(page, first).focus()
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("[data-bulk-count]")).to_have_text("2 selected")
    page.locator("#bulk-reason").select_option(label="Wrong framing")
    page.get_by_role("button", name="Reject selected").click()

    expect(page.get_by_text("2 take(s) rejected.")).to_be_visible()
    statuses = dict(Take.objects.filter(shot__brief=brief).values_list("pk", "status"))
    assert statuses == {first.pk: "rejected", second.pk: "rejected", third.pk: "ready"}
    assert set(Decision.objects.values_list("reason", flat=True)) == {"wrong_framing"}
    page.goto("/review/")
    expect(page.locator(".queue-item")).to_have_count(1)
    expect(page.locator(".queue-item")).to_contain_text("shot 3 · take 1")
    screenshot(page, "review-queue")


def test_two_directors_deciding_at_once_the_second_is_told_and_can_reapply(browser, live_server):
    brief = board_brief(shots=1)
    (take,) = takes_of(brief)
    ana, bo = director(first_name="Ana", last_name="Reyes"), director(first_name="Bo")
    pages = []
    for user in (ana, bo):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        pages.append(context.new_page())
        sign_in(pages[-1], user.username, TEST_PASSWORD)
        pages[-1].goto(f"/review/briefs/{brief.pk}/")
    first, second = pages

    card(first, take).get_by_role("button", name="Approve").click()
    expect(card(first, take).locator("[data-take-status]")).to_have_text("Approved")
    card(second, take).locator("[data-reason]").select_option("artefacts")
    card(second, take).get_by_role("button", name="Reject").click()

    alert = card(second, take).get_by_role("alert")
    expect(alert).to_contain_text("Ana Reyes approved take 1")
    expect(alert).to_contain_text("Your rejection was not applied")
    screenshot(second, "review-conflict")
    take.refresh_from_db()
    assert take.status == "approved"
    assert Decision.objects.get(user=bo).applied is False

    alert.get_by_role("button", name="Re-apply my rejection anyway").click()
    expect(card(second, take).locator("[data-take-status]")).to_have_text("Rejected")
    take.refresh_from_db()
    assert take.status == "rejected"
    for page in pages:
        page.context.close()


def test_producer_may_note_but_is_refused_decisions_and_the_queue(page):
    brief = board_brief(shots=1)
    sign_in(page, brief.producer.username, TEST_PASSWORD)

    page.goto(f"/review/briefs/{brief.pk}/")
    expect(page.get_by_text("Only creative directors decide")).to_be_visible()
    expect(page.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Add note")).to_be_visible()
    response = page.goto("/review/")

    assert response.status == 403


def test_a_new_take_appears_on_an_open_board_without_a_reload(page, settings):
    settings.REVIEW_POLL_SECONDS = 1
    brief = board_brief(shots=2)
    first, second = takes_of(brief)
    dana = director()
    sign_in(page, dana.username, TEST_PASSWORD)
    page.goto(f"/review/briefs/{brief.pk}/")
    expect(card(page, second).locator("video")).to_have_count(1)

    card(page, first).focus()
    services.reprompt(
        take=second, user=dana, prompt="Shot 2 again", negative_prompt="", reference_ids=[]
    )

    expect(card(page, second)).to_contain_text("take 2 · current", timeout=10000)
    # It is announced politely; focus stays on the shot the director was on.
    expect(page.locator("[data-announcer]")).to_have_text("Shot 2, take 2: Queued.")
    expect(card(page, first)).to_be_focused()
    expect(card(page, second).locator("[data-take-status]")).to_have_text("Queued")
    expect(card(page, first).locator("[data-take-status]")).to_have_text("Ready for review")
