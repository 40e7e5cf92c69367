"""Provider selection and pricing read Django settings at call time."""

from __future__ import annotations

from decimal import Decimal

import pytest

from studio.ai import faults, get_embedder, get_generator, get_planner, local, providers
from studio.ai.gemini import GeminiEmbedder, GeminiPlanner, GeminiVideoGenerator
from studio.ai.pricing import UnpricedModelError, cost_for


@pytest.fixture
def local_settings(settings, tmp_path):
    settings.AI_PROVIDER = "local"
    settings.AI_FAULTS = {}
    settings.LOCAL_OPS_DIR = tmp_path
    settings.EMBEDDING_DIMENSIONS = 768
    return settings


def test_local_providers_by_default(local_settings):
    assert isinstance(get_planner(), local.LocalPlanner)
    assert isinstance(get_generator(), local.LocalGenerator)
    assert get_generator().workdir == local_settings.LOCAL_OPS_DIR
    assert get_embedder().model == "local-hash-768"


def test_auto_picks_gemini_only_when_a_key_is_set(local_settings, fake_gemini):
    local_settings.AI_PROVIDER = "auto"
    local_settings.GEMINI_API_KEY = ""
    assert isinstance(get_planner(), local.LocalPlanner)

    local_settings.GEMINI_API_KEY = "test-key"
    local_settings.GEMINI_BASE_URL = fake_gemini.url
    local_settings.GEMINI_PLANNER_MODEL = "gemini-2.5-flash"
    local_settings.EMBEDDING_DIMENSIONS = 256
    planner, embedder, generator = get_planner(), get_embedder(), get_generator()

    assert isinstance(planner, GeminiPlanner) and isinstance(embedder, GeminiEmbedder)
    assert isinstance(generator, GeminiVideoGenerator)
    assert len(embedder.embed(["fox"], task="query")[0]) == 256
    assert get_planner() is planner


def test_faults_wrap_every_provider_with_one_shared_injector(local_settings):
    local_settings.AI_FAULTS = {"plan": {"silent": 0.5}, "generate": {"error": 0.1}}
    local_settings.AI_FAULT_SEED = 9

    planner, generator = get_planner(), get_generator()

    assert isinstance(planner, faults.FaultyPlanner)
    assert isinstance(generator, faults.FaultyGenerator)
    assert planner.injector is generator.injector is providers.get_fault_injector()
    assert planner.model == "local-planner-1"


def test_an_unknown_provider_is_a_clear_error(local_settings):
    local_settings.AI_PROVIDER = "openai"

    with pytest.raises(ValueError, match="AI_PROVIDER"):
        get_planner()


def test_local_models_are_free_and_gemini_models_are_priced(settings):
    settings.AI_PRICES = {}

    assert cost_for(kind="video_seconds", model="local-renderer-1", quantity=8) == 0
    assert cost_for(kind="video_seconds", model="veo-3.1-generate-preview", quantity=8) == Decimal(
        "3.20"
    )
    assert cost_for(kind="input_tokens", model="gemini-2.5-flash", quantity=1_000_000) == Decimal(
        "0.30"
    )
    # A new version of a known family is priced like the family, never for free.
    assert cost_for(kind="video_seconds", model="veo-4-preview", quantity=1) > 0


def test_configured_prices_override_the_defaults(settings):
    settings.AI_PRICES = {"veo-3.1-generate-preview": {"video_seconds": Decimal("0.75")}}

    assert cost_for(kind="video_seconds", model="veo-3.1-generate-preview", quantity=4) == 3


def test_an_unpriced_model_is_a_clear_error(settings):
    settings.AI_PRICES = {}

    with pytest.raises(UnpricedModelError, match="AI_PRICES"):
        cost_for(kind="input_tokens", model="mystery-model", quantity=1)
