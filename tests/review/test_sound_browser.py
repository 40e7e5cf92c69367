"""The board's sound player in a real Chromium: mute, the level meter, the no-sound label."""

import re

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from briefs.models import Take
from tests.browser import screenshot, sign_in, wait_until
from tests.factories.review import board_brief
from tests.factories.users import TEST_PASSWORD, director
from tests.review.test_sound import TENSE_LINE, sound_clip

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_mute_toggles_the_video_and_the_meter_moves_while_a_take_with_sound_plays(page):
    # Given a board whose first take has sound and whose second is silent
    brief = board_brief(shots=2)
    loud, silent = Take.objects.filter(shot__brief=brief).order_by("shot__order")
    loud.media.save("sound.mp4", ContentFile(sound_clip()), save=False)
    Take.objects.filter(pk=loud.pk).update(media=loud.media.name, has_audio=True, audio=TENSE_LINE)
    Take.objects.filter(pk=silent.pk).update(has_audio=False)
    dana = director(first_name="Dana")
    sign_in(page, dana.username, TEST_PASSWORD)

    # When the director opens the board
    page.goto(f"/review/briefs/{brief.pk}/")
    shot = page.locator(f"#shot-{loud.shot_id}")
    video = shot.locator("video")
    expect(video).to_have_js_property("readyState", 4, timeout=15000)

    # Then the take with sound has a visible, labelled mute button and meter
    mute = shot.get_by_role("button", name="Mute shot 1")
    expect(mute).to_be_visible()
    expect(mute).to_have_attribute("aria-pressed", "false")
    expect(shot.get_by_label("Level")).to_be_visible()
    # And the silent take says so instead
    expect(page.locator(f"#shot-{silent.shot_id}")).to_contain_text("No sound in this take")

    # When it plays, the meter shows its level
    shot.get_by_role("button", name="Play").click()
    level = wait_until(
        page,
        f"() => {{ const m = document.querySelector('#shot-{loud.shot_id} [data-level]');"
        " return m && m.value > 0 ? m.value : 0; }",
        timeout_ms=8000,
    )
    assert 0 < level <= 1
    expect(shot.locator("[data-level-text]")).to_have_text(re.compile(r"^-\d+ dB$"))
    screenshot(page, "review-sound-player")

    # When the director mutes it with the button, then unmutes it with the M key
    mute.click()
    assert video.evaluate("v => v.muted") is True
    expect(mute).to_have_attribute("aria-pressed", "true")
    shot.focus()
    page.keyboard.press("m")
    expect(mute).to_have_attribute("aria-pressed", "false")
    assert video.evaluate("v => v.muted") is False
    video.evaluate("v => v.pause()")


def test_a_note_marked_about_sound_becomes_a_new_audio_line_on_the_reprompt_page(page, settings):
    # Given a take with a tense ambience on the board
    settings.AI_PROVIDER = "local"
    brief = board_brief(shots=1)
    take = Take.objects.get(shot__brief=brief)
    take.media.save("sound.mp4", ContentFile(sound_clip()), save=False)
    Take.objects.filter(pk=take.pk).update(media=take.media.name, has_audio=True, audio=TENSE_LINE)
    dana = director(first_name="Dana")
    sign_in(page, dana.username, TEST_PASSWORD)
    page.goto(f"/review/briefs/{brief.pk}/")
    shot = page.locator(f"#shot-{take.shot_id}")

    # When the director writes a note and marks it as about the sound
    shot.get_by_role("textbox", name="Note").fill("Calmer under the lantern, please")
    shot.get_by_role("checkbox", name="About the sound").check()
    shot.get_by_role("button", name="Add note").click()

    # Then the note shows as a sound note
    expect(page.locator(f"#shot-{take.shot_id} [data-note-about-sound]")).to_have_count(1)
    expect(page.locator(f"#shot-{take.shot_id} .marker-sound")).to_have_count(1)

    # When they re-prompt, the proposal swaps the ambience in the audio line, not the prompt
    page.locator(f"#shot-{take.shot_id}").get_by_role("link", name="Re-prompt…").click()
    expect(page.locator("[data-audio-diff] ins")).to_contain_text(["calm"])
    audio = page.get_by_label("Audio line")
    expect(audio).to_have_value(
        "Ambience: calm ambience, soft room tone and a gentle breeze; no dialogue."
    )
    screenshot(page, "review-reprompt-sound")
    page.get_by_role("button", name="Generate new take").click()

    # Then the new take is asked for the calm ambience
    expect(page.locator(f"#shot-{take.shot_id}")).to_contain_text("take 2")
    new_take = Take.objects.get(shot=take.shot, number=2)
    assert new_take.audio.startswith("Ambience: calm ambience")
