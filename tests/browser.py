"""Helpers for Playwright tests."""

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.workers import ARTIFACTS

# The WCAG 2.1 level A and AA rules; axe-core comes vendored inside axe-playwright-python.
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
_axe = Axe()


def sign_in(page: Page, username: str, password: str) -> None:
    """Sign in through the real login form."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def screenshot(page: Page, name: str) -> None:
    """Save a full-page screenshot under test-artifacts/ for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def wait_until(page: Page, predicate: str, *, timeout_ms: int = 5000) -> object:
    """Poll a JavaScript function until it returns something truthy; return that.

    Playwright's wait_for_function evaluates its predicate with eval(), which the site's
    CSP (script-src 'self') refuses; page.evaluate runs a function through the DevTools
    protocol, which CSP does not see.
    """
    for _ in range(max(1, timeout_ms // 50)):
        value = page.evaluate(predicate)
        if value:
            return value
        page.wait_for_timeout(50)
    raise AssertionError(f"Still false after {timeout_ms} ms: {predicate}")


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core's WCAG 2.1 A/AA rules on the page as it is now; return the violations."""
    # Colours caught mid-transition (after a theme switch, a hover) are not the page's colours.
    wait_until(
        page,
        "() => document.getAnimations().every(a => a.playState !== 'running'"
        " || a.effect.getComputedTiming().iterations === Infinity)",
    )
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
    return _axe.run(page, options=options).response["violations"]


def describe_violations(violations: list[dict]) -> str:
    """Format violations as one line per rule and element, for a failure message."""
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            summary = node.get("failureSummary", "").replace("\n", " ")
            lines.append(f"  {violation['id']} ({violation['impact']}) {target}: {summary}")
    return "\n".join(lines)
