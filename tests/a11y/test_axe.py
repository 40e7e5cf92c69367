"""axe-core (WCAG 2.1 A and AA rules) on every page each demo role can reach: zero violations.

One browser for the session, one context per role, one page load per page, audited in the light
and then the dark system theme; the data is the demo catalog, briefs and review activity plus
reliability history, so badges, cards and charts show.
"""

import json
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from studio.demo import DEMO_USERS
from tests.a11y.conftest import World
from tests.browser import axe_violations, describe_violations, screenshot, sign_in
from tests.workers import ARTIFACTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.a11y.urls"),
]


def open_every_card(page: Page) -> None:
    """Open the board's compact cards in full, as scrolling through the board would."""
    page.evaluate(
        "document.querySelectorAll('.card-lazy').forEach(el => htmx.trigger(el, 'review:open'))"
    )
    expect(page.locator(".card-lazy")).to_have_count(0)


def enter_the_review(page: Page) -> None:
    """Give a name and the password at a client link's gate, as a client does on first open."""
    page.get_by_label("Your name").fill("Ada Client")
    page.get_by_label("Password").fill("lantern-42")
    page.get_by_role("button", name="Open the review").click()
    expect(page.get_by_test_id("viewer-name")).to_have_text("Ada Client")


Prepare = Callable[[Page], None] | None

# (page name, url from the world, expected status, how to bring the page to its full state)
SIGNED_IN: list[tuple[str, Callable[[World], str], int, Prepare]] = [
    ("home", lambda w: "/", 200, None),
    ("catalog", lambda w: "/catalog/", 200, None),
    ("ip", lambda w: f"/catalog/{w.ip_slug}/?territory=IE", 200, None),
    ("asset", lambda w: f"/catalog/assets/{w.restricted_asset_id}/", 200, None),
    ("search", lambda w: f"/catalog/{w.ip_slug}/search/?q=lantern+harbour", 200, None),
    ("tokens", lambda w: "/account/tokens/", 200, None),
    ("password-change", lambda w: "/accounts/password/", 200, None),
    ("not-found", lambda w: "/no/such/page/", 404, None),
]
PAGES = {
    "anonymous": [
        ("login", lambda w: "/accounts/login/", 200, None),
        ("server-error", lambda w: "/boom/", 500, None),
        ("invitation-spent", lambda w: "/invitations/no-such-invitation/", 410, None),
        # A client's pages behind a review link: the gate, the review itself, a revoked link.
        ("client-gate", lambda w: f"/r/{w.client_token}/", 200, None),
        ("client-review", lambda w: f"/r/{w.client_token}/", 200, enter_the_review),
        ("client-revoked", lambda w: f"/r/{w.revoked_client_token}/", 410, None),
    ],
    "producer": [
        *SIGNED_IN,
        ("briefs", lambda w: "/briefs/", 200, None),
        ("brief-form", lambda w: "/briefs/new/", 200, None),
        ("brief", lambda w: f"/briefs/{w.brief_id}/", 200, None),
        ("brief-plan-gate", lambda w: f"/briefs/{w.plan_brief_id}/", 200, None),
        ("reliability", lambda w: "/reliability/?window=all", 200, None),
        ("trace", lambda w: f"/reliability/briefs/{w.brief_id}/trace/", 200, None),
        ("sequence", lambda w: f"/review/briefs/{w.brief_id}/sequence/", 200, None),
        ("continuity", lambda w: f"/review/briefs/{w.continuity_brief_id}/continuity/", 200, None),
        ("board", lambda w: f"/review/briefs/{w.brief_id}/", 200, open_every_card),
        ("compare", lambda w: f"/review/compare/?a={w.other_take_id}&b={w.take_id}", 200, None),
        ("client-links", lambda w: f"/review/briefs/{w.brief_id}/client-links/", 200, None),
        ("forbidden", lambda w: "/review/", 403, None),
    ],
    "director": [
        *SIGNED_IN,
        ("briefs", lambda w: "/briefs/", 200, None),
        ("brief-routed", lambda w: f"/briefs/{w.routed_brief_id}/", 200, None),
        ("queue", lambda w: "/review/", 200, None),
        ("board", lambda w: f"/review/briefs/{w.brief_id}/", 200, open_every_card),
        ("board-routed", lambda w: f"/review/briefs/{w.routed_brief_id}/", 200, open_every_card),
        ("compare", lambda w: f"/review/compare/?a={w.other_take_id}&b={w.take_id}", 200, None),
        ("reprompt", lambda w: f"/review/takes/{w.take_id}/reprompt/", 200, None),
        ("reliability", lambda w: "/reliability/?window=all", 200, None),
        ("trace", lambda w: f"/reliability/briefs/{w.brief_id}/trace/", 200, None),
        ("policies", lambda w: "/reliability/policies/", 200, None),
        ("policy", lambda w: f"/reliability/policies/{w.policy_id}/", 200, None),
        ("sequence", lambda w: f"/review/briefs/{w.brief_id}/sequence/", 200, None),
        ("continuity", lambda w: f"/review/briefs/{w.continuity_brief_id}/continuity/", 200, None),
        ("dailies", lambda w: "/review/dailies/", 200, None),
    ],
    "catalog": [
        *SIGNED_IN,
        ("admin", lambda w: "/admin/", 200, None),
        ("admin-assets", lambda w: "/admin/retrieval/asset/", 200, None),
        ("team", lambda w: f"/catalog/{w.ip_slug}/team/", 200, None),
        ("forbidden", lambda w: "/briefs/", 403, None),
    ],
}


SHOWN = {"board", "brief", "reliability", "ip", "client-review", "client-links", "continuity"}


@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_a_role_reaches_meets_wcag_21_aa(browser, live_server, request, role):
    world = request.getfixturevalue("world")
    # The audit waits on animations with a script Playwright evaluates as a string, which the
    # site's Content-Security-Policy refuses on some pages; the policy has its own tests.
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    demo = {d.username: d for d in DEMO_USERS}.get(role)
    if demo:
        sign_in(page, demo.username, demo.password)

    found: dict[str, list[dict]] = {}
    for name, url, status, prepare in PAGES[role]:
        response = page.goto(url(world))
        assert response.status == status, f"{role} {name}: HTTP {response.status}"
        page.wait_for_load_state("networkidle")
        if prepare:
            prepare(page)
        found[name] = axe_violations(page)
        if name in SHOWN:
            screenshot(page, f"a11y-{role}-{name}")
        # The same page under a dark system theme, without loading it again.
        page.emulate_media(color_scheme="dark")
        found[f"{name} (dark)"] = axe_violations(page)
        if name in SHOWN:
            screenshot(page, f"a11y-{role}-{name}-dark")
        page.emulate_media(color_scheme="light")
    context.close()

    ARTIFACTS.mkdir(exist_ok=True)
    counts = {name: sum(len(v["nodes"]) for v in vs) for name, vs in found.items()}
    (ARTIFACTS / f"a11y-{role}.json").write_text(json.dumps({"counts": counts, "found": found}))
    report = "\n".join(
        f"{role} {name} ({counts[name]} elements):\n{describe_violations(vs)}"
        for name, vs in found.items()
        if vs
    )
    assert not report, "WCAG 2.1 A/AA violations:\n" + report
