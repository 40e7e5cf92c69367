"""Keyboard-only walks: a director reviews a board and a producer submits a brief, no mouse.

Every step is a key press; the assertions are what a keyboard or screen-reader user relies on:
where focus is, what the controls are called, and what the polite status region says.
"""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from briefs import pipeline
from briefs.models import Brief, Take
from review.models import Decision, Note
from tests.browser import axe_violations, describe_violations, screenshot, sign_in
from tests.factories.retrieval import IPFactory, embedded_asset
from tests.factories.review import board_brief, ready_take
from tests.factories.users import TEST_PASSWORD, director, producer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUSED = "document.activeElement"


def tab_to(page: Page, locator, *, limit: int = 60, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until `locator` has focus; fail if it never does."""
    for _ in range(limit):
        if locator.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"Tab never reached {locator}")


def assert_no_violations(page: Page, where: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"{where}:\n{describe_violations(violations)}"


def test_a_director_reviews_a_board_by_keyboard_alone(page):
    # Given a board whose first shot has a second take to compare with the first
    brief = board_brief(shots=2, checklist=["On model"])
    first_shot_take, second_shot_take = Take.objects.filter(shot__brief=brief).order_by(
        "shot__order"
    )
    Take.objects.filter(pk=first_shot_take.pk).update(is_current=False)
    take = ready_take(shot=first_shot_take.shot, number=2, prompt="Shot 1: the pier at night.")
    sign_in(page, director(first_name="Dana", last_name="Okafor").username, TEST_PASSWORD)
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"/review/briefs/{brief.pk}/")
    card = page.locator(f"#shot-{take.shot_id}")
    next_card = page.locator(f"#shot-{second_shot_take.shot_id}")
    status = page.locator("[data-announcer]")

    # The first Tab shows the skip link, which jumps past the site navigation into the board
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate(f"{FOCUSED}.closest('main') !== null")

    # Tab reaches the first shot; "?" opens the shortcuts as a modal dialog; Esc returns to the shot
    tab_to(page, card)
    expect(card).to_have_accessible_name("Shot 1")
    expect(card).to_have_accessible_description("Ready for review")
    # Asked for less motion, the board does not animate its focus ring
    assert card.evaluate("el => parseFloat(getComputedStyle(el).transitionDuration)") < 0.001
    expect(card.locator("video")).to_have_count(1)
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    assert_no_violations(page, "board with the shortcut dialog open")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(card).to_be_focused()

    # The timeline is a slider: arrow keys seek, and its value is read as a timecode
    video = card.locator("video")
    expect(video).to_have_js_property("readyState", 4, timeout=15000)
    scrub = card.get_by_role("slider", name="Position in shot 1")
    tab_to(page, scrub)
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert video.evaluate("v => v.currentTime") == pytest.approx(0.03, abs=0.005)
    expect(scrub).to_have_attribute("aria-valuetext", "00:00.03 of 00:04.00")
    page.keyboard.press("End")
    assert video.evaluate("v => v.currentTime") > 3.9
    page.keyboard.press("Home")
    expect(card.get_by_role("button", name="Play")).to_be_visible()

    # N starts a note at the player's time; a region is placed and sized with the arrow keys
    page.keyboard.press("Escape")
    expect(card).to_be_focused()
    video.evaluate("v => { v.currentTime = 1.5; }")
    page.keyboard.press("n")
    note_body = card.get_by_role("textbox", name="Note")
    expect(note_body).to_be_focused()
    expect(card.get_by_role("spinbutton", name="At")).to_have_value("1.50")
    draw = card.get_by_role("button", name="Draw region")
    tab_to(page, draw, backwards=True)
    page.keyboard.press("Enter")
    region = card.get_by_role("group", name="Region 50% wide")
    expect(region).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowUp")
    expect(region).to_have_accessible_name(
        "Region 50% wide, 48% high, 29% from the left, 25% from the top. "
        "Arrows move, Shift and arrows resize, Enter keeps, Escape cancels."
    )
    page.keyboard.press("Enter")
    expect(note_body).to_be_focused()
    expect(status).to_contain_text("Region kept")
    page.keyboard.type("Lantern glow clips here")
    page.keyboard.press("Tab")
    expect(card.get_by_role("checkbox", name="About the sound")).to_be_focused()
    page.keyboard.press("Tab")
    expect(card.get_by_role("button", name="Add note")).to_be_focused()
    page.keyboard.press("Enter")

    # The card comes back with the note, focus returns to the card, and the change is announced
    marker = card.get_by_role("button", name="Note at 00:01.50, with a frame region")
    expect(marker).to_have_count(1)
    expect(card).to_be_focused()
    expect(status).to_have_text("Shot 1: note added.")
    note = Note.objects.get()
    assert (note.timecode_start, note.rect["x"], note.rect["h"]) == (1.5, 0.29, 0.48)

    # The marker is a button: Enter seeks to the note and shows its region
    video.evaluate("v => { v.currentTime = 0; }")
    tab_to(page, marker)
    page.keyboard.press("Enter")
    assert video.evaluate("v => v.currentTime") == pytest.approx(1.5, abs=0.05)
    expect(card.locator(".rect")).to_be_visible()

    # A approves the focused shot: focus moves on to the next shot, the status region says so
    page.keyboard.press("Escape")
    card.focus()
    page.keyboard.press("a")
    expect(card.locator("[data-take-status]")).to_have_text("Approved")
    expect(next_card).to_be_focused()
    expect(status).to_have_text("Shot 1, take 2: Approved.")
    assert Decision.objects.get().verdict == "approved"
    screenshot(page, "a11y-board-keyboard")

    # K goes back, C opens the comparison with the previous take; its transport is keyboard-driven
    page.keyboard.press("k")
    expect(card).to_be_focused()
    page.keyboard.press("c")
    page.wait_for_url("**/review/compare/**")
    videos = page.locator("[data-compare-video]")
    for index in (0, 1):
        expect(videos.nth(index)).to_have_js_property("readyState", 4, timeout=15000)
    play = page.get_by_role("button", name="Play both")
    tab_to(page, play)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Pause both")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Play both")).to_be_visible()
    assert_no_violations(page, "compare after keyboard playback")


def test_a_producer_fills_and_submits_the_brief_form_by_keyboard_alone(page, settings, tmp_path):
    # Given a producer and an IP with references
    settings.AI_PROVIDER = "local"
    settings.LOCAL_OPS_DIR = tmp_path
    ip = IPFactory(name="Lantern Harbour")
    embedded_asset(ip=ip, title="Lantern keeper", description="the lantern keeper walks the pier")
    user = producer()
    sign_in(page, user.username, TEST_PASSWORD)
    page.goto("/briefs/new/")
    release = date.today() + timedelta(days=30)

    # Each field is reached with Tab, named by its label, and filled with keys only
    answers = {
        "IP": ["ArrowDown"],
        "Title": "Harbour teaser",
        "Script beat or visual prompt": "The keeper walks the pier, then the tide rolls in.",
        "Tone": "calm",
        "Shots": ["Control+a", "Backspace", *"30"],
        "Release territory": "United Kingdom",
        "Release date": [*release.strftime("%m%d%Y")],
    }
    submit = page.get_by_role("button", name="Submit brief")
    filled = fill_by_keyboard(page, answers, until=submit)
    assert set(answers) <= filled
    page.keyboard.press("Enter")

    # A refused submit puts focus on the error summary, which links to the field to fix
    summary = page.get_by_role("alert").filter(has_text="Please correct the highlighted fields")
    expect(summary).to_be_focused()
    expect(page.get_by_role("spinbutton", name="Shots")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("spinbutton", name="Shots")).to_have_accessible_description(
        "Choose between 1 and 24 shots."
    )
    page.keyboard.press("Tab")
    expect(summary.get_by_role("link", name="Shots")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("spinbutton", name="Shots")).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("2")
    tab_to(page, submit)
    page.keyboard.press("Enter")

    # Then the brief exists and its page opens, progress announced politely, not by focus
    page.wait_for_url(re.compile(r"/briefs/\d+/"))
    brief = Brief.objects.get(title="Harbour teaser")
    assert (brief.ip, brief.shot_count, brief.territory, brief.release_date) == (
        ip,
        2,
        "GB",
        release,
    )
    expect(page.get_by_role("status").filter(has_text="submitted")).to_be_visible()
    assert_no_violations(page, "brief page after a keyboard submit")

    # As the pipeline runs, the page's polite status region says where the brief stands;
    # the progress section itself is not a live region, so it is not read out whole.
    page.locator("body").focus()
    pipeline.run_inline(brief.pk)
    announcer = page.locator("[data-announcer]")
    expect(announcer).to_contain_text("In review", timeout=15000)
    expect(announcer).to_contain_text("2 of 2 shots through the checks")
    assert page.locator("#brief-live[aria-live]").count() == 0


def fill_by_keyboard(page: Page, answers: dict, *, until) -> set[str]:
    """Tab through the form; type each focused field's answer by its label; stop at `until`."""
    filled = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        if until.evaluate("el => el === document.activeElement"):
            return filled
        label = page.evaluate(
            f"{FOCUSED}.labels && {FOCUSED}.labels.length ? "
            f"{FOCUSED}.labels[0].textContent.replace('*', '').trim() : ''"
        )
        answer = answers.get(label)
        if answer is None:
            continue
        if isinstance(answer, str):
            page.keyboard.type(answer)
        else:
            for key in answer:
                page.keyboard.press(key)
        filled.add(label)
    raise AssertionError("Tab never reached the submit button")
