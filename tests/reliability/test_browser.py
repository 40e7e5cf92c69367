"""The dashboard, a trace and the policies page in a real browser."""

import pytest

from briefs.models import Brief
from reliability import autonomy
from reliability.models import AutonomyPolicy
from tests.browser import screenshot, sign_in
from tests.factories.reliability import history
from tests.factories.users import TEST_PASSWORD, director, lead_director

pytestmark = pytest.mark.browser


def test_dashboard_charts_filter_and_lead_to_a_trace(page):
    briefs = history()
    # Directors see every brief's figures; a producer would see only their own.
    user = director(username="dana")
    sign_in(page, user.username, TEST_PASSWORD)

    page.goto("/reliability/")

    steps = page.get_by_role("region", name="Per step")
    assert steps.get_by_role("row", name="Generate").is_visible()
    assert page.get_by_role("img", name="Attempts per step, by outcome").is_visible()
    assert page.get_by_role("img", name="Routed to a human, by reason").is_visible()
    screenshot(page, "reliability-dashboard")

    page.get_by_label("IP", exact=True).select_option(label="Moon Orchard")
    page.wait_for_url("**/reliability/?*ip=*")
    rows = page.locator("#chart-approval-by-ip table tbody tr")
    assert rows.count() == 1 and "Moon Orchard" in rows.first.text_content()

    routed = next(b for b in briefs if b.status != Brief.Status.COMPLETED)
    page.goto(f"/reliability/briefs/{routed.pk}/trace/")
    assert page.get_by_role("heading", name=f"Trace: {routed.title}").is_visible()
    assert page.get_by_role("img", name=f"Timeline of brief “{routed.title}”").is_visible()
    assert page.locator(".rel-handoff").count() >= 10
    screenshot(page, "reliability-trace")


def test_the_lead_director_sees_policies_with_their_audit_trail(page):
    admin = lead_director(username="root-admin")
    policy = autonomy.policy_create(user=admin, min_decisions=50, bar=0.9)
    autonomy.policy_update(
        policy=policy, user=admin, mode=AutonomyPolicy.Mode.SHADOW, note="Measure agreement first."
    )
    sign_in(page, admin.username, TEST_PASSWORD)

    page.goto("/reliability/policies/")
    page.get_by_label("IP (empty: every IP without its own policy)").select_option(index=0)
    page.get_by_role("button", name="Create policy").click()
    assert page.get_by_text("already has a policy for this IP").is_visible()

    page.get_by_role("link", name="Take review · every IP").click()
    page.get_by_label("Mode").select_option("auto")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("alert").filter(has_text="Not earned yet").is_visible()
    assert page.get_by_role("row", name="manual → shadow").is_visible()
    screenshot(page, "reliability-policy")
