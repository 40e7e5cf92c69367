"""The API tokens page in a real browser: create, copy the secret once, revoke."""

import pytest

from integrations.models import ApiToken
from tests.browser import screenshot, sign_in
from tests.factories.users import TEST_PASSWORD, producer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_producer_creates_copies_and_revokes_a_token(page):
    # Given a signed-in producer on the tokens page
    user = producer(username="pat")
    sign_in(page, "pat", TEST_PASSWORD)
    page.goto("/account/tokens/")
    # When they create a token for their render script
    page.get_by_label("Name").fill("Render farm script")
    page.get_by_label("Expires").select_option("90")
    page.get_by_role("button", name="Create token").click()
    # Then the secret is shown once, ready to copy, and the token is listed as active
    secret = page.get_by_test_id("new-token").input_value()
    assert secret.startswith("studio_")
    row = page.get_by_role("row", name="Render farm script")
    assert "Active" in row.inner_text()
    screenshot(page, "integrations-token-created")
    page.goto("/account/tokens/")
    assert secret not in page.content()
    # And revoking it marks it revoked
    page.get_by_role("row", name="Render farm script").get_by_role("button", name="Revoke").click()
    assert "Revoked" in page.get_by_role("row", name="Render farm script").inner_text()
    assert ApiToken.objects.get(user=user).revoked_at is not None
    screenshot(page, "integrations-token-revoked")
