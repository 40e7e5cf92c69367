"""The continuity sheet in a real Chromium: reached from the board, images load, no CSP errors."""

import pytest
from playwright.sync_api import expect

from briefs.pipeline import continuity
from tests.browser import axe_violations, describe_violations, screenshot, sign_in, wait_until
from tests.factories.briefs import continuity_brief
from tests.factories.users import TEST_PASSWORD, director

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_given_a_drifting_shot_when_a_director_opens_the_sheet_from_the_board_then_it_stands_out(
    page,
):
    brief = continuity_brief(shifted=(3,))
    continuity.check_continuity(brief.pk)
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    sign_in(page, director().username, TEST_PASSWORD)
    page.goto(f"/review/briefs/{brief.pk}/")

    page.get_by_role("link", name="Continuity sheet").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"{brief.title}: continuity")
    expect(page.get_by_role("heading", name="Mira")).to_be_visible()
    images = page.locator(".continuity-strip img")
    expect(images).to_have_count(13)  # one reference and 3 shots x 4 keyframes
    wait_until(
        page,
        "() => [...document.querySelectorAll('.continuity-strip img')]"
        ".every(img => img.complete && img.naturalWidth > 0)",
    )
    expect(page.locator(".continuity-drifted")).to_have_count(1)
    expect(page.locator("tr.pair-drifted")).to_have_count(2)
    expect(page.locator("svg.palette-bar").first).to_be_visible()
    violations = axe_violations(page)
    screenshot(page, "continuity-sheet")
    # The refresh swaps the body in place (htmx), and the sheet is still whole.
    page.get_by_role("link", name="Refresh").click()
    expect(page.locator("tr.pair-drifted")).to_have_count(2)
    assert page.url.endswith(f"/review/briefs/{brief.pk}/continuity/")

    assert not violations, describe_violations(violations)
    assert not refused, refused
