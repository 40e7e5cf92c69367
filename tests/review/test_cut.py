"""The approved cut: one MP4 of the approved takes, rendered once per set of takes."""

import io
from datetime import timedelta
from fractions import Fraction

import av
import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from briefs.models import Take
from review import cut, services
from review.models import CutRender
from tests.factories.review import board_brief
from tests.factories.users import catalog_admin, director, producer
from tests.workers import wait_until

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def approve(take: Take, user) -> None:
    take.refresh_from_db()
    services.decide(take=take, user=user, verdict="approved", expected_version=take.version)


def takes_of(brief) -> list[Take]:
    return list(Take.objects.filter(shot__brief=brief).order_by("shot__order"))


def probe(cut_render: CutRender) -> dict:
    """Decode every frame and sample of the rendered file."""
    with cut_render.file.open("rb") as source, av.open(source) as container:
        has_audio = bool(container.streams.audio)
        frames = sum(1 for _ in container.decode(video=0))
        container.seek(0)
        samples = sum(f.samples for f in container.decode(audio=0)) if has_audio else 0
        return {"frames": frames, "audio_samples": samples, "has_audio": has_audio}


def clip_with_tone(seconds: int = 3) -> bytes:
    """Return a small H.264 clip with an AAC tone, as a take made elsewhere might have."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=12)
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        audio = container.add_stream("aac", rate=48000, layout="stereo")
        for index in range(seconds * 12):
            frame = av.VideoFrame.from_ndarray(
                np.full((240, 320, 3), index * 5 % 255, dtype=np.uint8), format="rgb24"
            )
            for packet in video.encode(frame):
                container.mux(packet)
        tone = np.sin(np.arange(seconds * 48000) * 440 * 2 * np.pi / 48000).astype(np.float32)
        for start in range(0, len(tone), 1024):
            chunk = np.stack([tone[start : start + 1024]] * 2)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = 48000, start, Fraction(1, 48000)
            for packet in audio.encode(frame):
                container.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                container.mux(packet)
    return out.getvalue()


def test_given_approved_takes_when_the_cut_renders_then_it_is_an_mp4_as_long_as_they_are(
    django_capture_on_commit_callbacks,
):
    brief = board_brief(shots=3)
    first, _, third = takes_of(brief)
    dana = director()
    approve(first, dana)
    approve(third, dana)

    with django_capture_on_commit_callbacks() as callbacks:
        requested = services.request_cut(brief=brief, user=brief.producer)
    assert len(callbacks) == 1 and requested.status == CutRender.Status.QUEUED
    cut.render_cut(cut_id=requested.pk)

    requested.refresh_from_db()
    assert (requested.status, requested.progress) == (CutRender.Status.READY, 100)
    assert requested.duration_s == pytest.approx(first.duration_s + third.duration_s)
    decoded = probe(requested)
    assert decoded["frames"] == 8 * cut.FPS and not decoded["has_audio"]
    assert requested.takes == [[first.pk, 2], [third.pk, 2]]


def test_given_a_rendered_cut_when_nothing_changed_then_asking_again_reuses_it(
    django_capture_on_commit_callbacks,
):
    brief = board_brief(shots=2)
    for take in takes_of(brief):
        approve(take, director())
    first = services.request_cut(brief=brief, user=brief.producer)
    cut.render_cut(cut_id=first.pk)

    with django_capture_on_commit_callbacks() as callbacks:
        again = services.request_cut(brief=brief, user=director())

    assert again.pk == first.pk and again.status == CutRender.Status.READY
    assert callbacks == [] and CutRender.objects.count() == 1


def test_given_a_rendered_cut_when_a_take_changes_then_a_new_cut_is_rendered(
    django_capture_on_commit_callbacks,
):
    brief = board_brief(shots=2)
    first, second = takes_of(brief)
    dana = director()
    approve(first, dana)
    approve(second, dana)
    old = services.request_cut(brief=brief, user=brief.producer)
    cut.render_cut(cut_id=old.pk)
    second.refresh_from_db()
    services.decide(
        take=second,
        user=dana,
        verdict="rejected",
        expected_version=second.version,
        reason_code="continuity",
    )

    with django_capture_on_commit_callbacks() as callbacks:
        new = services.request_cut(brief=brief, user=brief.producer)
    cut.render_cut(cut_id=new.pk)

    new.refresh_from_db()
    assert new.pk != old.pk and len(callbacks) == 1
    assert new.takes == [[first.pk, 2]]
    assert probe(new)["frames"] == 4 * cut.FPS


def test_given_one_take_with_sound_then_the_cut_has_sound_for_its_whole_length():
    brief = board_brief(shots=2)
    first, second = takes_of(brief)
    video = clip_with_tone(seconds=3)
    second.media.save("tone.mp4", ContentFile(video))
    second.duration_s = 3.0
    second.save()
    for take in (first, second):
        approve(take, director())
    requested = services.request_cut(brief=brief, user=brief.producer)

    cut.render_cut(cut_id=requested.pk)

    requested.refresh_from_db()
    decoded = probe(requested)
    assert decoded["has_audio"] and decoded["frames"] == 7 * cut.FPS
    # AAC pads to whole 1024-sample frames (and adds its priming delay); no more than that.
    assert decoded["audio_samples"] == pytest.approx(7 * 48000, abs=2048)


def test_given_a_render_whose_worker_went_silent_when_asked_again_then_it_is_queued_again(
    django_capture_on_commit_callbacks,
):
    brief = board_brief(shots=1)
    approve(takes_of(brief)[0], director())
    asked = services.request_cut(brief=brief, user=brief.producer)
    CutRender.objects.filter(pk=asked.pk).update(status=CutRender.Status.RENDERING)

    with django_capture_on_commit_callbacks() as still_alive:
        services.request_cut(brief=brief, user=brief.producer)
    CutRender.objects.filter(pk=asked.pk).update(
        updated_at=timezone.now() - services.CUT_RENDER_STALE - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks() as gone_silent:
        again = services.request_cut(brief=brief, user=brief.producer)

    assert still_alive == [] and len(gone_silent) == 1
    assert again.pk == asked.pk and again.status == CutRender.Status.QUEUED


def test_given_nothing_approved_then_no_cut_is_asked_for():
    brief = board_brief(shots=1)

    with pytest.raises(services.ReviewError, match="no shot of this brief has an approved take"):
        services.request_cut(brief=brief, user=brief.producer)
    assert not CutRender.objects.exists()


def test_given_a_producer_when_asking_for_the_cut_then_the_panel_polls_until_the_file_is_there(
    client, django_capture_on_commit_callbacks
):
    brief = board_brief(shots=2)
    for take in takes_of(brief):
        approve(take, director())
    client.force_login(brief.producer)

    with django_capture_on_commit_callbacks() as callbacks:
        asked = client.post(reverse("review:cut_request", args=[brief.pk]), **HTMX)
    html = asked.content.decode()
    assert asked.status_code == 200 and len(callbacks) == 1
    assert html.lstrip().startswith('<div id="approved-cut"')
    assert 'hx-trigger="every 2s"' in html and "<progress" in html
    cut.render_cut(cut_id=CutRender.objects.get().pk)

    done = client.get(reverse("review:cut_status", args=[brief.pk]), **HTMX).content.decode()

    rendered = CutRender.objects.get()
    assert "hx-trigger" not in done and "Download the approved cut (MP4, 00:08.00)" in done
    served = client.get(reverse("review:cut_file", args=[rendered.pk]))
    assert served.status_code == 200 and served["Content-Type"] == "video/mp4"
    page = client.get(reverse("review:sequence", args=[brief.pk])).content.decode()
    assert reverse("review:cut_file", args=[rendered.pk]) in page
    assert reverse("review:export", args=[brief.pk]) in page


def test_given_nothing_approved_when_asking_with_htmx_then_422_says_why(client):
    brief = board_brief(shots=1)
    client.force_login(director())

    response = client.post(reverse("review:cut_request", args=[brief.pk]), **HTMX)

    assert response.status_code == 422
    assert "no shot of this brief has an approved take" in response.content.decode()


def test_given_no_javascript_when_asking_from_the_board_then_the_sequence_page_shows_the_cut(
    client,
):
    brief = board_brief(shots=1)
    approve(takes_of(brief)[0], director())
    client.force_login(director())

    response = client.post(reverse("review:cut_request", args=[brief.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("review:sequence", args=[brief.pk]) + "#approved-cut"


def test_given_another_producer_or_a_catalog_admin_then_the_cut_is_not_theirs(client):
    brief = board_brief(shots=1)
    approve(takes_of(brief)[0], director())
    rendered = services.request_cut(brief=brief, user=brief.producer)
    cut.render_cut(cut_id=rendered.pk)

    client.force_login(producer())
    assert client.get(reverse("review:cut_file", args=[rendered.pk])).status_code == 404
    assert client.post(reverse("review:cut_request", args=[brief.pk])).status_code == 404
    client.force_login(catalog_admin())
    assert client.get(reverse("review:cut_file", args=[rendered.pk])).status_code == 403
    assert client.get(reverse("review:cut_status", args=[brief.pk])).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_given_a_running_worker_when_the_cut_is_asked_for_then_the_worker_renders_it(
    start_worker,
):
    brief = board_brief(shots=2)
    for take in takes_of(brief):
        approve(take, director())
    start_worker()

    asked = services.request_cut(brief=brief, user=brief.producer)

    wait_until(
        lambda: CutRender.objects.get(pk=asked.pk).status == CutRender.Status.READY,
        timeout=60,
        message="the worker never rendered the cut",
    )
    assert probe(CutRender.objects.get(pk=asked.pk))["frames"] == 8 * cut.FPS
