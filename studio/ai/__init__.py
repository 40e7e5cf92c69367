"""The model boundary: protocols, plain values, and the providers behind them."""

from studio.ai.providers import (
    get_captioner,
    get_critic,
    get_embedder,
    get_generator,
    get_planner,
)

__all__ = ["get_captioner", "get_critic", "get_embedder", "get_generator", "get_planner"]
