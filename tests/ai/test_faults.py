"""Fault injection: reproducible, recorded, and caught by the media checks."""

from __future__ import annotations

import json
import random

import pytest

from studio.ai import faults, local, media
from studio.ai.types import (
    GenerationRequest,
    MalformedOutputError,
    PermanentProviderError,
    PlanRequest,
    ProviderError,
    TransientProviderError,
)

PALETTE = ("#1b2a41", "#c8553d", "#f2d0a4")


def plan_request(title: str) -> PlanRequest:
    return PlanRequest(
        title=title,
        beat="Mika runs. She leaps. She lands.",
        tone="calm",
        shot_count=4,
        aspect_ratio="16:9",
        seconds_per_shot=4,
        negative_prompt="",
        ip_name="Mika",
        style_notes="",
        palette=PALETTE,
        references=(),
    )


def run_plans(seed: int, rates: dict, count: int = 200) -> list[str]:
    injector = faults.FaultInjector({"plan": rates}, random.Random(seed))
    planner = faults.FaultyPlanner(local.LocalPlanner(), injector)
    outcomes = []
    for n in range(count):
        try:
            outcomes.append(f"{len(planner.plan(plan_request(f'brief {n}')).shots)} shots")
        except (TransientProviderError, PermanentProviderError) as exc:
            outcomes.append(type(exc).__name__)
    return outcomes


RATES = {"error": 0.05, "timeout": 0.05, "rate_limit": 0.05, "malformed": 0.05, "silent": 0.1}


def test_same_seed_and_rates_inject_the_same_faults():
    assert run_plans(1, RATES) == run_plans(1, RATES)
    assert run_plans(1, RATES) != run_plans(2, RATES)


def test_every_injected_fault_is_recorded_as_ground_truth(tmp_path):
    log_path = tmp_path / "faults.jsonl"
    injector = faults.FaultInjector({"plan": RATES}, random.Random(5), log_path=log_path)
    planner = faults.FaultyPlanner(local.LocalPlanner(), injector)
    raised = spoiled = 0

    for n in range(300):
        try:
            plan = planner.plan(plan_request(f"brief {n}"))
        except (TransientProviderError, PermanentProviderError):
            raised += 1
            continue
        if len(plan.shots) != 4 or not all(s.prompt for s in plan.shots):
            spoiled += 1

    kinds = [f.kind for f in injector.log]
    assert raised == len(kinds) - kinds.count("silent")
    assert spoiled == kinds.count("silent")
    assert set(kinds) == set(faults.KINDS)
    assert 0.2 < len(kinds) / 300 < 0.4
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert lines == [
        {"step": f.step, "kind": f.kind, "key": f.key, "detail": f.detail} for f in injector.log
    ]


def test_loud_faults_raise_the_provider_errors():
    def first_fault(kind: str) -> Exception:
        injector = faults.FaultInjector({"plan": {kind: 1.0}}, random.Random(0))
        with pytest.raises(ProviderError) as caught:
            faults.FaultyPlanner(local.LocalPlanner(), injector).plan(plan_request("x"))
        return caught.value

    assert isinstance(first_fault("error"), PermanentProviderError)
    assert isinstance(first_fault("malformed"), MalformedOutputError)
    assert first_fault("rate_limit").retry_after == 1.0
    assert isinstance(first_fault("timeout"), TransientProviderError)


def generation_request(key: str) -> GenerationRequest:
    return GenerationRequest(
        prompt="Mika leaps",
        negative_prompt="",
        camera="pan right",
        duration_s=4,
        aspect_ratio="16:9",
        seed=3,
        palette=PALETTE,
        reference_images=(),
        idempotency_key=key,
    )


def test_silent_generation_faults_are_real_clips_that_the_probe_catches(tmp_path):
    injector = faults.FaultInjector({"generate": {"silent": 1.0}}, random.Random(3))
    generator = faults.FaultyGenerator(local.LocalGenerator(tmp_path), injector, tmp_path)
    probes = {}

    for n in range(40):
        if len(probes) == 4:
            break
        status = generator.poll(generator.start(generation_request(f"take-{n}")))
        probes.setdefault(injector.log[-1].detail, media.probe_video(status.video))

    assert set(probes) == {"black", "blank", "frozen", "off_palette"}
    for probe in probes.values():
        assert abs(probe.duration_s - 4) <= 1 / 12 and probe.width == 640
    assert probes["black"].mean_luma < 5
    assert probes["blank"].luma_std < 1
    assert probes["frozen"].frozen_ratio == 1.0
    assert media.palette_distance(probes["off_palette"].dominant_palette, PALETTE) > 0.3


def test_a_restarted_faulty_take_returns_the_same_operation(tmp_path):
    injector = faults.FaultInjector({"generate": {"silent": 1.0}}, random.Random(3))
    generator = faults.FaultyGenerator(local.LocalGenerator(tmp_path), injector, tmp_path)

    first = generator.start(generation_request("take-1"))

    assert generator.start(generation_request("take-1")) == first
    assert len(injector.log) == 1


def test_clean_generation_passes_through(tmp_path):
    injector = faults.FaultInjector({}, random.Random(3))
    generator = faults.FaultyGenerator(local.LocalGenerator(tmp_path), injector, tmp_path)

    operation_id = generator.start(generation_request("take-1"))

    assert operation_id.startswith("local-") and generator.poll(operation_id).video
    assert injector.log == []


def test_silent_embedding_fault_is_a_random_unit_vector():
    injector = faults.FaultInjector({"embed": {"silent": 1.0}}, random.Random(3))
    inner = local.LocalEmbedder(dimensions=32)
    embedder = faults.FaultyEmbedder(inner, injector)

    noisy = embedder.embed(["a fox"], task="query")[0]

    assert noisy != inner.embed(["a fox"], task="query")[0]
    assert abs(sum(v * v for v in noisy) - 1) < 1e-9 and len(noisy) == 32
    assert embedder.model == "local-hash-32"


def test_silent_critic_fault_inflates_the_score_of_a_blank_frame():
    injector = faults.FaultInjector({"critique": {"silent": 1.0}}, random.Random(3))
    blank = media.poster_png(
        media.render_flat_clip(colour="#000000", duration_s=1, aspect_ratio="16:9")
    )

    critique = faults.FaultyCritic(local.LocalCritic(), injector).critique(
        prompt="x", poster_png=blank, references=()
    )

    assert critique.score > 0.9
    assert injector.log[0].detail == "inflated"


def test_unknown_steps_and_impossible_rates_are_rejected():
    with pytest.raises(ValueError):
        faults.FaultInjector({"plna": {"error": 0.1}}, random.Random(0))
    with pytest.raises(ValueError):
        faults.FaultInjector({"plan": {"error": 0.7, "silent": 0.7}}, random.Random(0))
