"""The catalog search page in a real Chromium: live results, filters, keyboard navigation."""

import io

import pytest
from playwright.sync_api import expect

from retrieval import demo
from retrieval.models import Asset
from tests.browser import screenshot, sign_in
from tests.factories.retrieval import CharacterFactory, IPFactory, embedded_asset
from tests.factories.users import TEST_PASSWORD, producer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_live_search_filters_and_keyboard_navigation(page, live_server):
    # given an IP with a lighthouse still, a lighthouse logo and a restricted storm still
    ip = IPFactory(name="Lanternfall", slug="lanternfall")
    mira = CharacterFactory(ip=ip, name="Mira")
    embedded_asset(ip=ip, title="Lighthouse at dawn", tags=["lighthouse"], characters=[mira])
    embedded_asset(ip=ip, title="Lighthouse emblem", kind=Asset.Kind.LOGO)
    embedded_asset(ip=ip, title="Lighthouse in a storm", rights__reference_use_allowed=False)
    user = producer()
    sign_in(page, user.username, TEST_PASSWORD)

    # when the producer types a query, without pressing anything
    page.goto(f"/catalog/{ip.slug}/search/")
    page.get_by_role("searchbox").press_sequentially("lighthous", delay=40)

    # then live results arrive: cleared assets only, each saying why it matched
    results = page.locator("#results .hit")
    expect(results).to_have_count(2)
    expect(page.locator("#results")).to_contain_text("all cleared for generation worldwide")
    expect(page.get_by_role("status")).to_have_text("2 results.")  # read out, focus untouched
    expect(page.get_by_role("searchbox")).to_be_focused()
    expect(results.first).to_contain_text("meaning #")
    expect(page.locator("#results")).not_to_contain_text("Lighthouse in a storm")

    # when a filter changes, the list follows
    page.get_by_label("Kind").select_option("logo")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Lighthouse emblem")
    page.get_by_label("Kind").select_option("")
    page.get_by_label("Include assets not cleared for generation").check()
    expect(results).to_have_count(3)
    screenshot(page, "retrieval-search")

    # when the producer arrows down to a result and presses Enter, its page opens
    page.get_by_label("Include assets not cleared for generation").uncheck()
    expect(results).to_have_count(2)
    page.get_by_role("searchbox").focus()
    page.keyboard.press("ArrowDown")
    first_title = results.first.locator(".hit-title").inner_text()
    expect(results.first.get_by_role("link")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(results.nth(1).get_by_role("link")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_contain_text(first_title)
    expect(page).to_have_url(
        f"{live_server.url}{Asset.objects.get(title=first_title).get_absolute_url()}"
    )


def test_demo_catalog_greys_out_what_generation_may_not_use(page, live_server):
    # given the demo IP (one expired, one GB/IE-only, one reference-forbidden asset)
    demo.seed(stdout=io.StringIO())
    user = producer()
    sign_in(page, user.username, TEST_PASSWORD)

    # when the producer opens the catalog and the IP, checking rights for Ireland
    page.goto("/catalog/")
    page.get_by_role("link", name="Lanternfall").click()
    page.get_by_label("Cleared in").fill("IE")
    page.get_by_role("button", name="Check").click()

    # then the blocked assets are greyed with their reasons, the rest are cleared
    blocked = page.locator(".asset-card.is-blocked")
    expect(blocked).to_have_count(2)
    expect(blocked.filter(has_text="Fishing boats")).to_contain_text("licence expired 2025-12-31")
    expect(blocked.filter(has_text="logo")).to_contain_text("reference use for generation")
    expect(page.get_by_role("status")).to_contain_text("10 of 12 cleared for generation in IE")
    screenshot(page, "retrieval-ip")

    page.get_by_role("link", name="Storm over the breakwater").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Storm over the breakwater")
    expect(page.locator(".facts")).to_contain_text(["GB, IE"])
    screenshot(page, "retrieval-asset")
