"""Offline providers: planner, generator, critic, embedder, captioner."""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
from pathlib import Path

import av
import pytest
from PIL import Image

from studio.ai import local, media
from studio.ai.types import (
    ClipFrame,
    GenerationRequest,
    PermanentProviderError,
    PlanRequest,
    Reference,
)

PALETTE = ("#1b2a41", "#c8553d", "#f2d0a4")


def refs(count: int) -> tuple[Reference, ...]:
    return tuple(
        Reference(100 + i, f"Ref {i}", f"reference number {i}", None, PALETTE) for i in range(count)
    )


def plan_request(**overrides) -> PlanRequest:
    options = {
        "title": "The chase",
        "beat": "Mika runs through the forest, she leaps the creek. The owl watches.",
        "tone": "tense",
        "shot_count": 4,
        "aspect_ratio": "16:9",
        "seconds_per_shot": 6,
        "negative_prompt": "text, watermark",
        "ip_name": "Mika",
        "style_notes": "hand-painted 2D",
        "palette": PALETTE,
        "references": refs(5),
    } | overrides
    return PlanRequest(**options)


def test_planner_respects_count_duration_and_references():
    plan = local.LocalPlanner().plan(plan_request())

    assert len(plan.shots) == 4
    assert {s.duration_s for s in plan.shots} == {6}
    assert {s.negative_prompt for s in plan.shots} == {"text, watermark"}
    assert all(1 <= len(s.reference_ids) <= 3 for s in plan.shots)
    assert {i for s in plan.shots for i in s.reference_ids} == {100, 101, 102, 103, 104}
    assert plan.model == "local-planner-1"


def test_planner_prompts_carry_the_beat_ip_style_and_reference_titles():
    plan = local.LocalPlanner().plan(plan_request())

    first = plan.shots[0].prompt
    assert "Mika runs through the forest" in first
    assert "hand-painted 2D" in first and "tense" in first
    assert "Featuring Ref 0, Ref 1, Ref 2." in first
    assert all(media.colour_name(c) in first for c in PALETTE)
    assert "leaps the creek" in plan.shots[1].prompt
    assert "owl watches" in plan.shots[2].prompt


def test_planner_names_each_shots_cast_and_gives_it_only_their_references():
    mika, owl = (
        Reference(10, "Mika portrait", "", None, characters=("Mika",)),
        Reference(11, "Owl portrait", "", None, characters=("Owl",)),
    )
    request = plan_request(shot_count=3)
    request = dataclasses.replace(
        request, references=(mika, owl, *request.references), characters=("Mika", "Owl")
    )

    shots = local.LocalPlanner().plan(request).shots

    assert shots[0].characters == ("Mika",) and 10 in shots[0].reference_ids
    assert 11 not in shots[0].reference_ids
    assert shots[2].characters == ("Owl",) and 11 in shots[2].reference_ids
    assert 10 not in shots[2].reference_ids


def test_planner_varies_repeated_beats_and_cameras_by_tone():
    tense = local.LocalPlanner().plan(plan_request(beat="A door opens", shot_count=3))
    calm = local.LocalPlanner().plan(plan_request(tone="calm", shot_count=3))

    assert len({s.prompt for s in tense.shots}) == 3
    assert tense.shots[0].camera == "handheld push-in"
    assert calm.shots[0].camera == "slow pan left"
    assert len({s.camera for s in calm.shots}) == 3


def test_planner_without_references_still_plans():
    plan = local.LocalPlanner().plan(plan_request(references=(), shot_count=2))

    assert [s.reference_ids for s in plan.shots] == [(), ()]


def generation_request(key: str = "take-1") -> GenerationRequest:
    return GenerationRequest(
        prompt="Mika leaps",
        negative_prompt="",
        camera="pan right",
        duration_s=4,
        aspect_ratio="9:16",
        seed=3,
        palette=PALETTE,
        reference_images=(),
        idempotency_key=key,
    )


def test_generator_renders_once_per_idempotency_key(tmp_path, monkeypatch):
    calls = []
    real_render = media.render_clip
    monkeypatch.setattr(media, "render_clip", lambda **kw: calls.append(kw) or real_render(**kw))
    generator = local.LocalGenerator(tmp_path)

    first = generator.start(generation_request())
    again = local.LocalGenerator(tmp_path).start(generation_request())
    other = generator.start(generation_request("take-2"))

    assert first == again != other
    assert len(calls) == 2
    status = generator.poll(first)
    assert status.done and status.mime_type == "video/mp4"
    probe = media.probe_video(status.video)
    assert (probe.width, probe.height, probe.frame_count) == (360, 640, 48)


def test_generator_rejects_unknown_operations(tmp_path):
    generator = local.LocalGenerator(tmp_path)

    with pytest.raises(PermanentProviderError):
        generator.poll("local-0123abcd")
    with pytest.raises(PermanentProviderError):
        generator.poll("../../etc/passwd")


def poster(video: bytes) -> bytes:
    return media.poster_png(video)


def test_critic_scores_blank_low_and_on_palette_above_off_palette(tmp_path):
    generator = local.LocalGenerator(tmp_path)
    good = poster(generator.poll(generator.start(generation_request())).video)
    off = poster(
        media.render_clip(
            prompt="Mika leaps",
            camera="pan right",
            duration_s=1,
            aspect_ratio="16:9",
            seed=3,
            palette=media.complementary_palette(PALETTE),
            reference_images=(),
        )
    )
    blank = poster(media.render_flat_clip(colour="#7f7f7f", duration_s=1, aspect_ratio="16:9"))
    critic = local.LocalCritic()

    scores = {
        name: critic.critique(prompt="Mika leaps", poster_png=png, references=refs(2))
        for name, png in {"good": good, "off": off, "blank": blank}.items()
    }

    assert scores["blank"].score < 0.1
    assert "blank" in " ".join(scores["blank"].reasons)
    assert scores["good"].score > scores["off"].score + 0.1
    assert scores["good"].model == "local-critic-1"


def test_embedder_is_deterministic_normalised_and_sized():
    embedder = local.LocalEmbedder(dimensions=64)

    first, second = embedder.embed(["A fox in the woods", ""], task="document")

    assert embedder.model == "local-hash-64"
    assert len(first) == 64 and abs(sum(v * v for v in first) - 1) < 1e-9
    assert abs(sum(v * v for v in second) - 1) < 1e-9
    assert embedder.embed(["A fox in the woods"], task="query")[0] == first


def test_embedder_ranks_related_text_above_unrelated():
    labelled = json.loads((Path(__file__).parent / "relevance_set.json").read_text())
    embedder = local.LocalEmbedder()
    documents = labelled["documents"]
    vectors = embedder.embed([d["text"] for d in documents], task="document")

    found = wanted = 0
    for query in labelled["queries"]:
        q = embedder.embed([query["text"]], task="query")[0]
        ranked = sorted(
            zip(documents, vectors, strict=True),
            key=lambda pair: -sum(a * b for a, b in zip(q, pair[1], strict=True)),
        )
        top = {d["id"] for d, _ in ranked[:3]}
        found += len(top & set(query["relevant"]))
        wanted += min(3, len(query["relevant"]))
    recall = found / wanted

    print(f"local embedder recall@3 = {recall:.2f} ({found}/{wanted})")
    assert recall >= 0.8


def test_captioner_names_the_measured_colours():
    image = Image.new("RGB", (80, 80), "#dc143c")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")

    caption = local.LocalCaptioner().caption(buffer.getvalue(), hint="Mika's scarf")

    assert caption.startswith("Mika's scarf.") and "crimson" in caption


def frames_of(colours: list[str]) -> list[ClipFrame]:
    """Return one frame per neighbouring pair of colours: left half one, right half the other."""
    frames = []
    for index, (left, right) in enumerate(itertools.pairwise(colours)):
        image = Image.new("RGB", (160, 90), left)
        image.paste(Image.new("RGB", (80, 90), right), (80, 0))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG")
        frames.append(ClipFrame(time_s=index * 0.5, image=buffer.getvalue()))
    return frames


def test_critic_scores_sampled_frames_on_the_palette_above_frames_off_it():
    critic = local.LocalCritic()
    on = frames_of(["#1b2a41", "#c8553d", "#f2d0a4"])
    off = frames_of(["#20c060", "#6020c0", "#20c060"])

    on_palette = critic.critique(prompt="Mika", poster_png=b"", references=refs(1), frames=on)
    off_palette = critic.critique(prompt="Mika", poster_png=b"", references=refs(1), frames=off)

    assert on_palette.score > off_palette.score + 0.2
    assert on_palette.criteria == () and off_palette.criteria == ()


def test_critic_judges_blank_sampled_frames_as_blank():
    flat = frames_of(["#7f7f7f", "#7f7f7f", "#7f7f7f"])

    critique = local.LocalCritic().critique(
        prompt="Mika leaps", poster_png=b"", references=refs(1), frames=flat
    )

    assert critique.score < 0.1 and "blank" in " ".join(critique.reasons)


def audio_track(video: bytes) -> tuple[float, list[float]]:
    """Return the clip's audio length in seconds and its per-0.1 s RMS, decoded with PyAV."""
    samples: list[float] = []
    with av.open(io.BytesIO(video)) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            plane = frame.planes[0]
            samples.extend(memoryview(bytes(plane)).cast("f")[: frame.samples])
        rate = stream.rate
    window = rate // 10
    rms = [
        (sum(v * v for v in samples[i : i + window]) / window) ** 0.5
        for i in range(0, len(samples) - window, window)
    ]
    return len(samples) / rate, rms


def test_generator_adds_an_ambience_track_shaped_by_the_prompts_mood(tmp_path):
    generator = local.LocalGenerator(tmp_path, audio=True)
    calm = dataclasses.replace(generation_request("calm"), prompt="Mika rests. calm mood.")
    tense = dataclasses.replace(generation_request("tense"), prompt="Mika runs. tense mood.")

    calm_seconds, calm_rms = audio_track(generator.poll(generator.start(calm)).video)
    _, tense_rms = audio_track(generator.poll(generator.start(tense)).video)

    assert abs(calm_seconds - 4) < 0.1
    assert all(0.01 < level < 0.2 for level in calm_rms[2:])
    # A tense bed swells twice a second; a calm one holds steady.
    assert max(tense_rms[2:]) / min(tense_rms[2:]) > 1.5 * max(calm_rms[2:]) / min(calm_rms[2:])


def test_generator_makes_silent_takes_unless_asked_for_audio(tmp_path):
    generator = local.LocalGenerator(tmp_path)
    video = generator.poll(generator.start(generation_request())).video

    with pytest.raises(IndexError):
        audio_track(video)
