import pytest

from studio.demo import seed_demo_users
from tests.browser import screenshot, sign_in

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
