"""Bring your own take: a clip made elsewhere becomes the shot's next take and is checked."""

import io
from pathlib import Path

import av
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import expect

from briefs import pipeline
from briefs.models import Handoff, Take
from review import services
from tests.browser import screenshot, sign_in
from tests.factories.briefs import clip_bytes
from tests.factories.review import board_brief
from tests.factories.users import TEST_PASSWORD, director, producer


def mjpeg_clip() -> bytes:
    """A real, decodable clip in a codec browsers do not play."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="avi") as container:
        stream = container.add_stream("mjpeg", rate=6)
        stream.width, stream.height, stream.pix_fmt = 160, 90, "yuvj420p"
        for shade in range(12):
            frame = av.VideoFrame.from_image(Image.new("RGB", (160, 90), (shade * 20, 80, 120)))
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


def media_files() -> set[Path]:
    return {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


@pytest.mark.django_db
def test_an_uploaded_clip_becomes_the_current_take_and_goes_through_the_checks(settings):
    settings.AI_PROVIDER = "local"
    brief = board_brief(shots=1)
    old = Take.objects.get(shot__brief=brief)
    upload = SimpleUploadedFile("edit-v3.mp4", clip_bytes(), content_type="video/mp4")

    take = services.upload_take(shot=old.shot, user=director(), upload=upload)

    old.refresh_from_db()
    assert (take.number, take.status, take.is_current, take.parent_id) == (
        2,
        "checking",
        True,
        old.pk,
    )
    assert take.provider == "upload" and take.config["uploaded_file"] == "edit-v3.mp4"
    assert take.media.name.endswith(".mp4") and take.poster and take.billed_generations == 0
    assert not old.is_current
    pipeline.run_step("check", take.pk, owner="w")
    take.refresh_from_db()
    assert take.status in (Take.Status.READY, Take.Status.ROUTED) and take.checks
    assert Handoff.objects.filter(take=take, step="check").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a video at all", "is not a video, or it is truncated or damaged"),
        ("truncated", "is not a video, or it is truncated or damaged"),
        ("mjpeg", "mjpeg video cannot be played in the review player"),
    ],
)
def test_a_file_that_is_not_a_playable_clip_is_refused_and_leaves_nothing(content, message):
    brief = board_brief(shots=1)
    shot = Take.objects.get(shot__brief=brief).shot
    if content == "truncated":
        whole = clip_bytes()
        content = whole[: len(whole) // 2]
    elif content == "mjpeg":
        content = mjpeg_clip()
    files_before = media_files()

    with pytest.raises(services.ReviewError, match=message):
        services.upload_take(
            shot=shot, user=director(), upload=SimpleUploadedFile("clip.mp4", content)
        )

    assert Take.objects.filter(shot=shot).count() == 1
    assert media_files() == files_before


class NeverRead(SimpleUploadedFile):
    def read(self, *args):
        raise AssertionError("a file over the limit must not be read")


@pytest.mark.django_db
def test_a_huge_upload_is_refused_before_it_is_read(settings):
    settings.REVIEW_MAX_TAKE_UPLOAD_BYTES = 1000
    shot = Take.objects.get(shot__brief=board_brief(shots=1)).shot
    upload = NeverRead("huge.mp4", b"x" * 5000)

    with pytest.raises(services.ReviewError, match="a take may be at most"):
        services.upload_take(shot=shot, user=producer(), upload=upload)


@pytest.mark.django_db
def test_an_upload_waits_while_the_shot_has_a_take_in_flight():
    brief = board_brief(shots=1)
    take = Take.objects.get(shot__brief=brief)
    Take.objects.filter(pk=take.pk).update(status=Take.Status.GENERATING)
    upload = SimpleUploadedFile("edit.mp4", clip_bytes())

    with pytest.raises(services.ReviewError, match="still generating"):
        services.upload_take(shot=take.shot, user=director(), upload=upload)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_director_uploads_a_take_from_the_board_in_a_browser(page, tmp_path):
    brief = board_brief(shots=1)
    take = Take.objects.get(shot__brief=brief)
    clip = tmp_path / "from-the-edit.mp4"
    clip.write_bytes(clip_bytes())
    not_video = tmp_path / "notes.mp4"
    not_video.write_bytes(b"these are notes, not a clip")
    dana = director()
    sign_in(page, dana.username, TEST_PASSWORD)
    page.goto(f"/review/briefs/{brief.pk}/")
    card = page.locator(f"#shot-{take.shot_id}")

    card.get_by_label("Bring your own take").set_input_files(str(not_video))
    card.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_text("cannot be used as a take")).to_be_visible()

    card = page.locator(f"#shot-{take.shot_id}")
    card.get_by_label("Bring your own take").set_input_files(str(clip))
    card.get_by_role("button", name="Upload and check").click()

    expect(page.get_by_text("Uploaded “from-the-edit.mp4” as take 2 of shot 1")).to_be_visible()
    screenshot(page, "review-upload-take")
    uploaded = Take.objects.get(shot=take.shot, number=2)
    assert uploaded.is_current and uploaded.status == Take.Status.CHECKING
