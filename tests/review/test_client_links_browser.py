"""A client review in a real Chromium: link made on the brief page, opened signed out, revoked."""

import pytest
from playwright.sync_api import expect

from briefs.models import Take
from review.models import ClientNote, ClientVerdict, Decision, ReviewLink
from tests.browser import screenshot, sign_in
from tests.factories.review import board_brief
from tests.factories.users import TEST_PASSWORD, director

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_client_reviews_through_a_link_the_board_shows_it_and_revocation_closes_it(
    page, browser, live_server, settings
):
    brief = board_brief(shots=2, title="Harbour teaser")
    first, second = Take.objects.filter(shot__brief=brief).order_by("shot__order")

    # Given the producer makes a password-protected link to shot 1 from the brief page,
    sign_in(page, brief.producer.username, TEST_PASSWORD)
    page.goto(f"/briefs/{brief.pk}/")
    page.get_by_role("link", name="Client review links").click()
    page.get_by_label("For whom").fill("Harbour Agency")
    page.get_by_label("Expires after (days)").fill("7")
    page.get_by_label("Password (optional)").fill("lantern-42")
    page.get_by_label("Shot 1").check()
    page.get_by_role("button", name="Make review link").click()
    link_url = page.get_by_test_id("new-link").input_value()
    assert link_url.startswith(live_server.url + "/r/")
    screenshot(page, "client-links-made")

    # when a fresh browser with no account opens it, gives a name and the password,
    client_context = browser.new_context(viewport={"width": 1280, "height": 900})
    client = client_context.new_page()
    client.set_default_timeout(15000)
    client.goto(link_url)
    expect(client.get_by_role("heading", name="Harbour teaser")).to_be_visible()
    client.get_by_label("Your name").fill("Ada Client")
    client.get_by_label("Password").fill("lantern-42")
    client.get_by_role("button", name="Open the review").click()
    expect(client.get_by_test_id("viewer-name")).to_have_text("Ada Client")
    shot = client.locator(f"#shot-{first.shot_id}")
    expect(client.locator(f"#shot-{second.shot_id}")).to_have_count(0)
    expect(shot.locator("[data-watermark]")).to_have_text("Ada Client · Harbour Agency")

    # plays the take, leaves a note at the player's time and approves the shot,
    video = shot.locator("video")
    expect(video).to_have_js_property("readyState", 4, timeout=15000)
    video.evaluate("v => { v.muted = true; return v.play(); }")
    video.evaluate("v => { v.pause(); v.currentTime = 1.5; }")
    shot.get_by_role("button", name="Use the player's time").click()
    expect(shot.get_by_label("At (seconds)")).to_have_value("1.50")
    shot.get_by_label("Note").fill("The logo needs more room here")
    shot.get_by_role("button", name="Add note").click()
    shot = client.locator(f"#shot-{first.shot_id}")
    expect(shot.locator(".client-notes")).to_contain_text("The logo needs more room here")
    expect(shot.locator(".client-notes")).to_contain_text("00:01")
    shot.get_by_label("Comment").fill("Lovely light.")
    shot.get_by_role("button", name="Approve").click()
    expect(client.locator(f"#shot-{first.shot_id} [data-client-verdict]")).to_have_text("Approved")
    screenshot(client, "client-review-page")

    note = ClientNote.objects.get()
    assert (note.viewer_name, note.timecode_start, note.take_id) == ("Ada Client", 1.5, first.pk)
    assert ClientVerdict.objects.get().verdict == "approved"
    first.refresh_from_db()
    assert first.status == Take.Status.READY and Decision.objects.count() == 0

    # then the director's board shows the client's verdict and note as the client's,
    board_context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    board = board_context.new_page()
    board.set_default_timeout(15000)
    dana = director(first_name="Dana", last_name="Okafor")
    sign_in(board, dana.username, TEST_PASSWORD)
    board.goto(f"/review/briefs/{brief.pk}/")
    card = board.locator(f"#shot-{first.shot_id}")
    expect(card.locator("[data-client-verdict]")).to_contain_text("Ada Client")
    expect(card.locator("[data-client-verdict]")).to_contain_text("approved")
    expect(card.locator("[data-client-note]")).to_contain_text("The logo needs more room here")
    expect(card.locator("[data-client-marker]")).to_have_count(1)
    expect(card.locator("[data-take-status]")).to_have_text("Ready for review")
    card.locator("[data-client-verdict]").scroll_into_view_if_needed()
    screenshot(board, "client-verdict-on-board")
    board_context.close()

    # and once the producer revokes the link, the same URL says so.
    page.goto(f"/review/briefs/{brief.pk}/client-links/")
    expect(page.get_by_test_id("opens")).to_have_text("1")
    page.get_by_role("button", name="Revoke the link for Harbour Agency").click()
    expect(page.locator(".badge-bad")).to_have_text("Revoked")
    screenshot(page, "client-links-revoked")
    response = client.goto(link_url)
    assert response.status == 410
    expect(client.get_by_test_id("client-notice")).to_have_text("This review link was revoked.")
    screenshot(client, "client-link-revoked")
    client_context.close()
    assert ReviewLink.objects.get().revoked_by == brief.producer
