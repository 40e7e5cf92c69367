import re

import pytest
from playwright.sync_api import expect

from studio.demo import seed_demo_users
from tests.browser import screenshot, sign_in
from tests.factories.retrieval import IPFactory
from tests.factories.review import board_brief
from tests.factories.users import TEST_PASSWORD, director

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("username", "role", "nav"),
    [
        ("producer", "Producer", ["Catalog", "Briefs", "New brief", "Reliability"]),
        ("director", "Creative Director", ["Catalog", "Briefs", "Review queue", "Reliability"]),
        ("catalog", "Catalog Admin", ["Catalog", "Admin"]),
    ],
)
def test_each_demo_role_signs_in_and_sees_its_navigation(page, username, role, nav):
    demo = {d.username: d for d in seed_demo_users()}[username]
    sign_in(page, demo.username, demo.password)
    page.wait_for_url("**/")
    assert page.locator(".badge-role").inner_text() == role
    links = page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts()
    assert links == nav
    screenshot(page, f"home-{username}")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")


def test_a_wrong_password_shows_an_error_in_the_page(page):
    seed_demo_users()
    sign_in(page, "producer", "wrong")
    assert page.get_by_role("alert").inner_text().startswith("Please enter a correct username")
    screenshot(page, "login-error")


@pytest.mark.django_db(transaction=True)
def test_pages_work_under_the_content_security_policy(page):
    # Given an IP with a palette and a brief on the board with a note at 0.5 s of a 4 s take,
    # and a record of every policy violation the browser reports
    brief = board_brief(shots=1, notes_per_take=1, ip=IPFactory(palette=["#0f3d4c", "#f5b942"]))
    page.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    user = director()
    sign_in(page, user.username, TEST_PASSWORD)

    # When a director opens the catalog and the brief's board
    page.goto(f"/catalog/{brief.ip.slug}/")
    swatch = page.locator(".swatch").first
    expect(swatch).to_have_css("background-color", "rgb(15, 61, 76)")
    catalog_violations = page.evaluate("window.cspViolations")
    page.goto(f"/review/briefs/{brief.pk}/")
    marker = page.locator(".marker").first
    expect(marker).to_have_attribute("style", re.compile(r"left: 12\.5%"))

    # Then the computed styles were applied, htmx ran, and the browser blocked nothing
    assert page.evaluate("typeof htmx") == "object"
    assert catalog_violations == []
    assert page.evaluate("window.cspViolations") == []
    screenshot(page, "board-under-csp")
