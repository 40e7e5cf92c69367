"""The brief form and the live brief page in a real browser."""

from datetime import date, timedelta

import pytest

from briefs import pipeline
from briefs.models import Brief
from tests.browser import screenshot, sign_in
from tests.factories.retrieval import IPFactory, embedded_asset
from tests.factories.users import TEST_PASSWORD, producer

pytestmark = pytest.mark.browser


def test_a_producer_submits_a_brief_and_watches_it_reach_review_without_reloading(
    page, settings, tmp_path
):
    settings.AI_PROVIDER = "local"
    settings.LOCAL_OPS_DIR = tmp_path
    ip = IPFactory(name="Lantern Harbour")
    embedded_asset(ip=ip, title="Lantern keeper", description="the lantern keeper walks the pier")
    embedded_asset(ip=ip, title="Tide", description="the tide rolls in over the stones")
    user = producer()
    sign_in(page, user.username, TEST_PASSWORD)

    # The form refuses an impossible shot count, saying why, and keeps what was typed.
    page.goto("/briefs/new/")
    page.get_by_role("combobox", name="IP").select_option(label="Lantern Harbour")
    page.get_by_role("textbox", name="Title").fill("Harbour teaser")
    page.get_by_label("Script beat or visual prompt").fill(
        "The lantern keeper walks the pier at dusk, then the tide rolls in over the stones."
    )
    page.get_by_role("textbox", name="Tone").fill("calm")
    page.get_by_role("spinbutton", name="Shots").fill("30")
    page.get_by_label("Seconds per shot").select_option("4")
    page.get_by_label("Release territory").select_option("GB")
    page.get_by_label("Release date").fill((date.today() + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Submit brief").click()
    assert page.get_by_text("Choose between 1 and 24 shots.").is_visible()
    assert page.get_by_role("textbox", name="Title").input_value() == "Harbour teaser"
    screenshot(page, "brief-form-errors")

    page.get_by_role("spinbutton", name="Shots").fill("2")
    page.get_by_role("button", name="Submit brief").click()
    page.wait_for_url("**/briefs/*/")
    assert page.get_by_text("submitted; the pipeline has it").is_visible()
    assert page.locator("#brief-live .badge-status").inner_text() == "Queued"
    page.evaluate("window.stillTheSamePage = true")

    # The pipeline runs (here, in-process); the page follows it by polling, without a reload.
    brief = Brief.objects.get(title="Harbour teaser")
    pipeline.run_inline(brief.pk)

    badge = page.locator("#brief-live .badge-status").first
    badge.filter(has_text="In review").wait_for(timeout=15000)
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.locator("video").count() == 2
    assert (
        page.get_by_test_id("waiting-on")
        .inner_text()
        .startswith("Waiting on a creative director to review 2 shot(s)")
    )
    assert page.get_by_role("progressbar").get_attribute("aria-valuenow") == "2"
    duration = page.locator("video").first.evaluate(
        "v => new Promise(r => v.readyState >= 1 ? r(v.duration)"
        " : v.addEventListener('loadedmetadata', () => r(v.duration)))"
    )
    assert duration == pytest.approx(4, abs=0.3)
    screenshot(page, "brief-in-review")
