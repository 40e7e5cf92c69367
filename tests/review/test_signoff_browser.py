"""Two-director sign-off in a real Chromium: the card, the disagreement and the kappa table."""

import re

import pytest
from playwright.sync_api import expect

from briefs.models import Take
from review import services
from tests.browser import axe_violations, describe_violations, screenshot, sign_in
from tests.factories.review import board_brief
from tests.factories.users import TEST_PASSWORD, director

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_second_director_signs_a_two_director_shot_and_then_a_disagreement_goes_to_a_lead(page):
    # Given two shots needing two approvals, each already signed off by Ana
    brief = board_brief(shots=2, required_approvals=2)
    first, second = Take.objects.filter(shot__brief=brief).order_by("shot__order")
    ana = director(first_name="Ana", last_name="Reyes")
    for take in (first, second):
        services.decide(take=take, user=ana, verdict="approved", expected_version=1)
    bo = director(first_name="Bo", last_name="Lind")
    sign_in(page, bo.username, TEST_PASSWORD)
    page.goto(f"/review/briefs/{brief.pk}/")
    one, two = page.locator(f"#shot-{first.shot_id}"), page.locator(f"#shot-{second.shot_id}")
    expect(one.locator("[data-signoff]")).to_contain_text("Ana Reyes signed")
    expect(one.locator("[data-signoff]")).to_contain_text("1 more approval")

    # When Bo approves the first shot and rejects the second
    one.get_by_role("button", name="Approve").click()
    expect(one.locator("[data-take-status]")).to_have_text("Approved")
    two.get_by_label("Reason for rejecting").select_option("artefacts")
    two.get_by_role("button", name="Reject").click()

    # Then the first is approved with both names, the second waits for a lead with both verdicts
    expect(one.locator("[data-signoff]")).to_contain_text("Bo Lind signed")
    expect(two.locator("[data-take-status]")).to_have_text("Routed to a human")
    expect(two.locator("[data-signoff]")).to_contain_text("Bo Lind rejected — Artefacts")
    expect(two.locator("[data-signoff]")).to_contain_text("A lead director decides.")
    screenshot(page, "review-signoff")
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)

    # And the reliability page shows how the two agree
    page.goto("/reliability/?window=all")
    table = page.locator("#director-agreement")
    expect(table).to_contain_text("Ana Reyes & Bo Lind")
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)


def test_a_director_sends_the_proposed_reprompt_and_the_board_marks_the_note_addressed(
    page, settings
):
    # Given a take with a note asking for warmer light
    settings.AI_PROVIDER = "local"
    brief = board_brief(shots=1)
    take = Take.objects.get(shot__brief=brief)
    dana = director(first_name="Dana")
    services.add_note(take=take, user=dana, body="Warmer light", timecode_start=1.0)
    sign_in(page, dana.username, TEST_PASSWORD)

    # When she opens the re-prompt page, edits the proposal and sends it
    page.goto(f"/review/takes/{take.pk}/reprompt/")
    expect(page.locator("[data-prompt-diff] ins").first).to_be_visible()
    prompt = page.get_by_label("Prompt", exact=True)
    expect(prompt).to_have_value(re.compile(r"Review fixes: at 1\.0 s: warmer light\.$"))
    screenshot(page, "review-reprompt-proposal")
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
    prompt.fill(prompt.input_value() + " Golden hour.")
    page.get_by_role("button", name="Generate new take").click()

    # Then the new take records the note it answers, and take 1's card says so
    page.wait_for_url(re.compile(r"/review/briefs/\d+/"))
    assert Take.objects.get(shot=take.shot, number=2).prompt.endswith("Golden hour.")
    page.goto(f"/review/shots/{take.shot_id}/card/?take={take.pk}")
    expect(page.locator("[data-note-addressed]")).to_have_text("addressed in take 2")
