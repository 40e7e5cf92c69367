"""The Gemini providers, driven through the real google-genai client against the loopback fake."""

from __future__ import annotations

import base64
import json
import math

import pytest

from studio.ai import media
from studio.ai.gemini import (
    GeminiCaptioner,
    GeminiCritic,
    GeminiEmbedder,
    GeminiPlanner,
    GeminiVideoGenerator,
    make_client,
)
from studio.ai.types import (
    CRITERIA,
    GenerationRequest,
    MalformedOutputError,
    PermanentProviderError,
    PlanRequest,
    Reference,
    TransientProviderError,
)
from tests.fakes.gemini_server import (
    Canned,
    FakeGemini,
    error,
    operation_error,
    operation_filtered,
    text_answer,
)

REFERENCES = (
    Reference(11, "Mika the fox", "A red fox with a blue scarf", None, ("#cc3311", "#2244aa")),
    Reference(12, "Old forest", "Mossy pines at dusk", None, ("#224422",)),
)


def plan_request(shot_count: int = 3) -> PlanRequest:
    return PlanRequest(
        title="The chase",
        beat="Mika runs through the forest. She leaps the creek. She stops, listening.",
        tone="tense",
        shot_count=shot_count,
        aspect_ratio="16:9",
        seconds_per_shot=6,
        negative_prompt="text, watermark",
        ip_name="Mika",
        style_notes="hand-painted 2D",
        palette=("#cc3311", "#224422"),
        references=REFERENCES,
    )


def client_for(fake: FakeGemini, *, vertexai: bool = False, retries: int = 3):
    return make_client(
        api_key="test-key",
        base_url=fake.url,
        vertexai=vertexai,
        timeout_s=10,
        retries=retries,
        retry_initial_delay_s=0.01,
        retry_max_delay_s=0.02,
    )


def shot(**overrides) -> dict:
    return {
        "prompt": "A fox runs",
        "negative_prompt": "",
        "camera": "pan left",
        "duration_s": 6,
        "reference_ids": [11],
    } | overrides


def test_planner_returns_the_requested_shots_and_token_counts(fake_gemini):
    planner = GeminiPlanner(client_for(fake_gemini), "gemini-2.5-flash")

    plan = planner.plan(plan_request(3))

    assert len(plan.shots) == 3
    assert all(s.prompt and s.duration_s == 6 for s in plan.shots)
    assert {i for s in plan.shots for i in s.reference_ids} <= {11, 12}
    assert plan.shots[0].negative_prompt == "text, watermark"
    assert plan.model == "gemini-2.5-flash"
    assert plan.input_tokens > 0 and plan.output_tokens == 120
    sent = fake_gemini.received("generateContent")[0]
    assert sent.path == "/v1/models/gemini-2.5-flash:generateContent"
    assert sent.headers["x-goog-api-key"] == "test-key"
    config = sent.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert "shots" in config["responseSchema"]["properties"]
    assert "[asset 11] Mika the fox" in sent.body["contents"][0]["parts"][0]["text"]


def test_planner_rejects_invalid_json(fake_gemini):
    fake_gemini.script("generateContent", text_answer('{"shots": [{"prompt": "unterminated'))

    with pytest.raises(MalformedOutputError, match="does not match schema"):
        GeminiPlanner(client_for(fake_gemini)).plan(plan_request(1))


@pytest.mark.parametrize(
    ("shots", "message"),
    [
        ([shot(), shot()], "expected 3 shots, got 2"),
        ([shot(), shot(prompt="  "), shot()], "shot 2 has an empty prompt"),
        ([shot(), shot(), shot(duration_s=30)], "shot 3 lasts 30s"),
        ([shot(reference_ids=[99]), shot(), shot()], "unknown assets"),
    ],
)
def test_planner_rejects_a_plan_that_does_not_validate(fake_gemini, shots, message):
    fake_gemini.script("generateContent", text_answer(json.dumps({"shots": shots})))

    with pytest.raises(MalformedOutputError, match=message):
        GeminiPlanner(client_for(fake_gemini)).plan(plan_request(3))


def test_rate_limit_storm_is_transient_after_the_client_retries(fake_gemini):
    fake_gemini.script("generateContent", *[error(429, "quota", retry_after="7")] * 4)

    with pytest.raises(TransientProviderError) as caught:
        GeminiPlanner(client_for(fake_gemini, retries=3)).plan(plan_request(2))

    assert caught.value.retry_after == 7.0
    assert len(fake_gemini.received("generateContent")) == 4


def test_server_error_is_retried_then_succeeds(fake_gemini):
    fake_gemini.script("generateContent", error(500), error(503))

    plan = GeminiPlanner(client_for(fake_gemini)).plan(plan_request(2))

    assert len(plan.shots) == 2
    assert len(fake_gemini.received("generateContent")) == 3


def test_client_error_is_permanent_and_not_retried(fake_gemini):
    fake_gemini.script("generateContent", error(400, "bad schema"))

    with pytest.raises(PermanentProviderError, match="400"):
        GeminiPlanner(client_for(fake_gemini)).plan(plan_request(2))

    assert len(fake_gemini.received("generateContent")) == 1


def generation_request(reference_images=()) -> GenerationRequest:
    return GenerationRequest(
        prompt="Mika leaps the creek",
        negative_prompt="text",
        camera="pan left",
        duration_s=4,
        aspect_ratio="16:9",
        seed=42,
        palette=("#cc3311",),
        reference_images=tuple(reference_images),
        idempotency_key="take-1",
    )


def test_veo_operation_runs_until_done_with_a_real_mp4(fake_gemini, tmp_path):
    reference = tmp_path / "fox.png"
    reference.write_bytes(
        media.poster_png(
            media.render_flat_clip(
                colour="#cc3311", duration_s=1, aspect_ratio="16:9", size_short_side=64
            )
        )
    )
    generator = GeminiVideoGenerator(client_for(fake_gemini, vertexai=True))

    operation_id = generator.start(generation_request([str(reference)]))
    first = generator.poll(operation_id)
    second = generator.poll(operation_id)

    assert not first.done and first.video is None
    assert second.done and second.mime_type == "video/mp4"
    probe = media.probe_video(second.video)
    assert probe.frame_count == 48 and probe.width > probe.height
    sent = fake_gemini.received("predictLongRunning")[0]
    assert sent.path.endswith(
        "/publishers/google/models/veo-3.1-generate-preview:predictLongRunning"
    )
    instance, parameters = sent.body["instances"][0], sent.body["parameters"]
    assert instance["image"]["mimeType"] == "image/png"
    assert instance["referenceImages"][0]["referenceType"] == "ASSET"
    assert parameters == {
        "sampleCount": 1,
        "durationSeconds": 4,
        "aspectRatio": "16:9",
        "negativePrompt": "text",
        "seed": 42,
        # A Veo 3 model is told plainly when a brief wants no sound.
        "generateAudio": False,
    }
    assert fake_gemini.received("fetchPredictOperation")[0].body == {"operationName": operation_id}


def test_veo_operation_error_is_reported_in_the_status(fake_gemini):
    generator = GeminiVideoGenerator(client_for(fake_gemini, vertexai=True))
    fake_gemini.script("fetchPredictOperation", operation_error(3, "prompt too long"))

    status = generator.poll(generator.start(generation_request()))

    assert status.done and status.video is None
    assert status.error == "3 prompt too long"


def test_veo_safety_filter_is_reported_as_filtered_reason(fake_gemini):
    generator = GeminiVideoGenerator(client_for(fake_gemini, vertexai=True))
    fake_gemini.script("fetchPredictOperation", operation_filtered("celebrity likeness"))

    status = generator.poll(generator.start(generation_request()))

    assert status.done and status.video is None
    assert status.filtered_reason == "celebrity likeness"


def test_embeddings_have_the_requested_dimension_and_unit_length(fake_gemini):
    embedder = GeminiEmbedder(client_for(fake_gemini), dimensions=256)

    vectors = embedder.embed(["a fox", "a forest", "the sea"], task="query")

    assert [len(v) for v in vectors] == [256, 256, 256]
    assert all(math.isclose(math.sqrt(sum(x * x for x in v)), 1.0) for v in vectors)
    sent = fake_gemini.received("batchEmbedContents")[0].body["requests"]
    assert {r["outputDimensionality"] for r in sent} == {256}
    assert {r["taskType"] for r in sent} == {"RETRIEVAL_QUERY"}


def test_embeddings_are_sent_in_batches_of_one_hundred(fake_gemini):
    embedder = GeminiEmbedder(client_for(fake_gemini), dimensions=8)

    vectors = embedder.embed([f"text {i}" for i in range(150)], task="document")

    assert len(vectors) == 150
    batches = fake_gemini.received("batchEmbedContents")
    assert [len(b.body["requests"]) for b in batches] == [100, 50]


def test_critic_sends_the_poster_and_reads_a_structured_score(fake_gemini):
    poster = media.poster_png(
        media.render_flat_clip(colour="#808080", duration_s=1, aspect_ratio="16:9")
    )

    critique = GeminiCritic(client_for(fake_gemini)).critique(
        prompt="Mika leaps", poster_png=poster, references=REFERENCES
    )

    assert critique.score == 0.82 and critique.reasons
    parts = fake_gemini.received("generateContent")[0].body["contents"][0]["parts"]
    (inline,) = inline_parts(parts)
    assert mime(inline) == "image/png"
    assert decoded(inline) == poster
    assert "Mika the fox" in "\n".join(p.get("text", "") for p in parts)


def inline_parts(parts: list[dict]) -> list[dict]:
    # google-genai sends these fields in snake case; the API accepts both spellings.
    return [
        p.get("inlineData") or p.get("inline_data")
        for p in parts
        if "inlineData" in p or "inline_data" in p
    ]


def mime(inline: dict) -> str:
    return inline.get("mimeType") or inline.get("mime_type")


def decoded(inline: dict) -> bytes:
    # The client sends URL-safe base64 without padding.
    data = inline["data"]
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def test_critic_sends_reference_images_and_sampled_frames_and_reads_each_criterion(
    fake_gemini, tmp_path
):
    reference_path = tmp_path / "mika.png"
    reference_path.write_bytes(
        media.poster_png(
            media.render_flat_clip(colour="#cc3311", duration_s=1, aspect_ratio="16:9")
        )
    )
    references = (Reference(11, "Mika the fox", "", str(reference_path), ("#cc3311",)),)
    clip = media.render_clip(
        prompt="Mika leaps",
        camera="pan right",
        duration_s=2,
        aspect_ratio="16:9",
        seed=1,
        palette=("#cc3311",),
        reference_images=(),
        size_short_side=180,
    )
    frames = media.sample_frames(clip, count=4)
    verdicts = [
        {"name": "on_model", "passed": True, "reason": "Mika's scarf and ears match"},
        {"name": "action_matches_prompt", "passed": True, "reason": "she leaps", "start_s": 0.5},
        {"name": "setting", "passed": True, "reason": "forest"},
        {"name": "style", "passed": True, "reason": "painterly"},
        {
            "name": "forbidden_content",
            "passed": False,
            "reason": "a caption is burnt in",
            "start_s": 0.0,
            "end_s": 2.0,
        },
    ]
    answer = {"score": 0.4, "reasons": ["caption visible"], "criteria": verdicts}
    fake_gemini.script("generateContent", text_answer(json.dumps(answer)))

    critique = GeminiCritic(client_for(fake_gemini)).critique(
        prompt="Mika leaps the creek",
        poster_png=b"unused when frames are given",
        references=references,
        frames=frames,
        negative_prompt="text, logos",
    )

    sent = fake_gemini.received("generateContent")[0].body
    parts = sent["contents"][0]["parts"]
    images = inline_parts(parts)
    assert [mime(i) for i in images] == ["image/png"] + ["image/jpeg"] * 4
    assert decoded(images[0]) == reference_path.read_bytes()
    texts = "\n".join(p.get("text", "") for p in parts)
    assert "Reference [asset 11] Mika the fox" in texts
    assert [f"Take frame at {f.time_s:.2f} s" in texts for f in frames] == [True] * 4
    assert "Avoid: text, logos" in texts
    schema = sent["generationConfig"]["responseSchema"]["properties"]["criteria"]["items"]
    assert set(schema["properties"]["name"]["enum"]) == set(CRITERIA)
    assert [c.name for c in critique.criteria] == list(CRITERIA)
    forbidden = critique.criteria[-1]
    assert (forbidden.passed, forbidden.start_s, forbidden.end_s) == (False, 0.0, 2.0)
    assert critique.reasons[0] == "forbidden_content: a caption is burnt in"
    assert critique.score == 0.4


def test_critic_answer_missing_a_criterion_is_malformed(fake_gemini):
    answer = {
        "score": 0.9,
        "reasons": [],
        "criteria": [{"name": "on_model", "passed": True, "reason": "fine"}],
    }
    fake_gemini.script("generateContent", text_answer(json.dumps(answer)))

    with pytest.raises(MalformedOutputError, match="one verdict for each"):
        GeminiCritic(client_for(fake_gemini)).critique(
            prompt="x", poster_png=b"\x89PNG", references=()
        )


def test_critic_rejects_a_score_outside_zero_to_one(fake_gemini):
    fake_gemini.script("generateContent", text_answer('{"score": 7, "reasons": []}'))

    with pytest.raises(MalformedOutputError):
        GeminiCritic(client_for(fake_gemini)).critique(
            prompt="x", poster_png=b"\x89PNG", references=()
        )


def test_captioner_returns_the_model_text(fake_gemini):
    caption = GeminiCaptioner(client_for(fake_gemini)).caption(b"\x89PNG...", hint="Mika")

    assert caption == "A fake caption of the image."


def test_an_unreachable_endpoint_is_transient():
    client = make_client(
        api_key="k",
        base_url="http://127.0.0.1:9",
        retries=1,
        retry_initial_delay_s=0.01,
        retry_max_delay_s=0.01,
    )

    with pytest.raises(TransientProviderError, match="transport"):
        GeminiPlanner(client).plan(plan_request(1))


def test_rate_limit_hint_is_read_from_retry_info_when_there_is_no_header(fake_gemini):
    body = {
        "error": {
            "code": 429,
            "message": "quota",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "21s"}],
        }
    }
    fake_gemini.script("generateContent", Canned(429, body))

    with pytest.raises(TransientProviderError) as caught:
        GeminiPlanner(client_for(fake_gemini, retries=0)).plan(plan_request(1))

    assert caught.value.retry_after == 21.0


def test_a_video_delivered_by_uri_is_a_permanent_error(fake_gemini):
    generator = GeminiVideoGenerator(client_for(fake_gemini, vertexai=True))
    done = {"done": True, "response": {"videos": [{"gcsUri": "gs://bucket/take.mp4"}]}}
    fake_gemini.script(
        "fetchPredictOperation",
        Canned(body=lambda received: {"name": received.body["operationName"]} | done),
    )

    with pytest.raises(PermanentProviderError, match=r"gs://bucket/take\.mp4"):
        generator.poll(generator.start(generation_request()))
