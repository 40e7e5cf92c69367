"""Pick and build providers from Django settings, read at call time."""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path
from typing import Any

from django.conf import settings

from studio.ai import faults, local
from studio.ai.protocols import Captioner, Critic, Embedder, Generator, Planner, Reviser


def provider_name() -> str:
    """Return "gemini" or "local" from AI_PROVIDER ("auto" means gemini when a key is set)."""
    name = getattr(settings, "AI_PROVIDER", "local") or "local"
    if name == "auto":
        return "gemini" if getattr(settings, "GEMINI_API_KEY", "") else "local"
    if name not in ("gemini", "local"):
        raise ValueError(f"AI_PROVIDER must be local, gemini or auto, not {name!r}")
    return name


def get_planner() -> Planner:
    """Return the configured planner."""
    if provider_name() == "gemini":
        inner: Planner = _gemini("planner", _setting("GEMINI_PLANNER_MODEL", "gemini-2.5-flash"))
    else:
        inner = local.LocalPlanner()
    injector = get_fault_injector()
    return faults.FaultyPlanner(inner, injector) if injector else inner


def get_reviser() -> Reviser:
    """Return the configured reviser (it plans the next take's prompt from review notes)."""
    if provider_name() == "gemini":
        return _gemini("reviser", _setting("GEMINI_PLANNER_MODEL", "gemini-2.5-flash"))
    return local.LocalReviser()


def get_generator() -> Generator:
    """Return the configured video generator."""
    ops_dir = Path(_setting("LOCAL_OPS_DIR", "") or local.default_ops_dir())
    if provider_name() == "gemini":
        inner: Generator = _gemini(
            "video", _setting("GEMINI_VIDEO_MODEL", "veo-3.1-generate-preview")
        )
    else:
        inner = _local_generator(ops_dir)
    injector = get_fault_injector()
    return faults.FaultyGenerator(inner, injector, workdir=ops_dir) if injector else inner


def get_critic() -> Critic:
    """Return the configured critic."""
    if provider_name() == "gemini":
        inner: Critic = _gemini("critic", _setting("GEMINI_CRITIC_MODEL", "gemini-2.5-flash"))
    else:
        inner = local.LocalCritic()
    injector = get_fault_injector()
    return faults.FaultyCritic(inner, injector) if injector else inner


def get_embedder(*, model: str | None = None, dimensions: int | None = None) -> Embedder:
    """Return the configured embedder, or the one that makes `model` vectors of `dimensions`.

    Naming a model matters during a re-embed: queries against the space still serving must be
    embedded by that space's model, not the newly configured one.
    """
    dimensions = dimensions or int(_setting("EMBEDDING_DIMENSIONS", 768))
    if model is not None and model.startswith("local-hash-"):
        inner: Embedder = _local_embedder(dimensions)
    elif model is not None or provider_name() == "gemini":
        model = model or _setting("GEMINI_EMBEDDING_MODEL", "gemini-embedding-001")
        inner = _gemini("embedder", model, dimensions)
    else:
        inner = _local_embedder(dimensions)
    injector = get_fault_injector()
    return faults.FaultyEmbedder(inner, injector) if injector else inner


def get_captioner() -> Captioner:
    """Return the configured captioner (never fault-wrapped: it runs at ingest, not per brief)."""
    if provider_name() == "gemini":
        return _gemini("captioner", _setting("GEMINI_CRITIC_MODEL", "gemini-2.5-flash"))
    return local.LocalCaptioner()


def get_fault_injector() -> faults.FaultInjector | None:
    """Return the process's shared injector when AI_FAULTS is set, else None."""
    rates = _setting("AI_FAULTS", {}) or {}
    if not rates:
        return None
    log_path = _setting("AI_FAULT_LOG", None)
    return _injector(
        json.dumps(rates, sort_keys=True),
        int(_setting("AI_FAULT_SEED", 0)),
        str(log_path) if log_path else "",
    )


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _gemini(role: str, model: str, dimensions: int = 0) -> Any:
    return _build_gemini(
        role,
        model,
        dimensions,
        _setting("GEMINI_API_KEY", ""),
        _setting("GEMINI_BASE_URL", ""),
        _setting("GEMINI_VERTEX_PROJECT", ""),
        _setting("GEMINI_VERTEX_LOCATION", "us-central1"),
    )


@functools.lru_cache(maxsize=32)
def _build_gemini(
    role: str,
    model: str,
    dimensions: int,
    api_key: str,
    base_url: str,
    vertex_project: str,
    vertex_location: str,
) -> Any:
    # Imported here so local-only processes never pay for loading google-genai.
    from studio.ai import gemini

    if role == "video":
        # Veo is served only by the Vertex endpoint (see FACTS.md).
        client = gemini.make_client(
            api_key=api_key,
            base_url=base_url,
            vertexai=True,
            project=vertex_project or None,
            location=vertex_location,
            **_retry_options(),
        )
        return gemini.GeminiVideoGenerator(client, model)
    client = gemini.make_client(api_key=api_key, base_url=base_url, **_retry_options())
    if role == "planner":
        return gemini.GeminiPlanner(client, model)
    if role == "reviser":
        return gemini.GeminiReviser(client, model)
    if role == "critic":
        return gemini.GeminiCritic(client, model)
    if role == "captioner":
        return gemini.GeminiCaptioner(client, model)
    return gemini.GeminiEmbedder(client, model, dimensions)


def _retry_options() -> dict[str, float]:
    return {
        "retries": int(_setting("GEMINI_HTTP_RETRIES", 4)),
        "retry_initial_delay_s": float(_setting("GEMINI_HTTP_RETRY_INITIAL_S", 1.0)),
    }


@functools.lru_cache(maxsize=8)
def _local_generator(ops_dir: Path) -> local.LocalGenerator:
    return local.LocalGenerator(ops_dir, audio=bool(_setting("LOCAL_GENERATE_AUDIO", False)))


@functools.lru_cache(maxsize=8)
def _local_embedder(dimensions: int) -> local.LocalEmbedder:
    return local.LocalEmbedder(dimensions)


@functools.lru_cache(maxsize=8)
def _injector(rates_json: str, seed: int, log_path: str) -> faults.FaultInjector:
    return faults.FaultInjector(
        json.loads(rates_json), random.Random(seed), log_path=Path(log_path) if log_path else None
    )
