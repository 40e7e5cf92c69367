"""A studio admin invites someone from the IP's team page; they set a password and join."""

import re

import pytest

from teams.models import Membership
from tests.browser import axe_violations, describe_violations, screenshot, sign_in
from tests.factories.retrieval import IPFactory
from tests.factories.users import TEST_PASSWORD, superuser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_invited_producer_sets_a_password_joins_one_ip_and_the_link_then_is_spent(
    page, browser, live_server, mailoutbox
):
    # Given a studio admin on the team page of one of two IPs
    IPFactory(name="Alpha Harbour", slug="alpha", team=[])
    IPFactory(name="Bravo Comets", slug="bravo", team=[])
    superuser(username="root")
    sign_in(page, "root", TEST_PASSWORD)
    page.goto("/catalog/alpha/")
    page.get_by_role("link", name="Team").click()
    # When they invite a producer by email
    page.get_by_label("Email address").fill("sam@agency.example")
    page.get_by_label("Role").first.select_option("Producer")
    page.get_by_role("button", name="Send invitation").click()
    # Then the invitation is listed, and the email holds a link
    assert "Invitation emailed to sam@agency.example" in page.content()
    assert page.get_by_role("row", name=re.compile("sam@agency.example")).is_visible()
    assert axe_violations(page) == [], describe_violations(axe_violations(page))
    screenshot(page, "teams-team-page")
    (email,) = mailoutbox
    link = re.search(r"https?://\S+", email.body).group(0)

    # When the invitee opens it in their own browser and sets a password
    invitee = browser.new_context(base_url=live_server.url).new_page()
    invitee.goto(link)
    assert "Join Alpha Harbour" in invitee.content()
    invitee.get_by_label("Username").fill("sam")
    invitee.locator("#id_password1").fill("harbour lights at dusk 7")
    invitee.get_by_label("Password again").fill("harbour lights at dusk 7")
    screenshot(invitee, "teams-accept-invitation")
    invitee.get_by_role("button", name="Set password and join").click()
    # Then they are signed in as a producer of that IP only
    assert "Welcome to Alpha Harbour" in invitee.content()
    invitee.goto("/catalog/")
    assert "Alpha Harbour" in invitee.content() and "Bravo Comets" not in invitee.content()
    (membership,) = Membership.objects.filter(user__username="sam")
    assert (membership.ip.slug, membership.role) == ("alpha", "Producer")

    # And the same link, opened again, says it has been used
    invitee.goto(link)
    assert "already been used" in invitee.content()
