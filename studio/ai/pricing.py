"""What a model call costs, from settings.AI_PRICES over a documented default table."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from django.conf import settings

PriceKind = Literal["video_seconds", "input_tokens", "output_tokens", "embed_chars", "image"]

_PER_MILLION = Decimal("0.000001")

# US dollar list prices per unit, as published by Google for the paid tier when this was written.
# They drift: override any model (or add one) with settings.AI_PRICES = {model: {kind: price}}.
DEFAULT_PRICES: dict[str, dict[str, Decimal]] = {
    "gemini-2.5-flash": {
        "input_tokens": Decimal("0.30") * _PER_MILLION,
        "output_tokens": Decimal("2.50") * _PER_MILLION,
    },
    "gemini-2.5-flash-lite": {
        "input_tokens": Decimal("0.10") * _PER_MILLION,
        "output_tokens": Decimal("0.40") * _PER_MILLION,
    },
    "gemini-2.5-pro": {
        "input_tokens": Decimal("1.25") * _PER_MILLION,
        "output_tokens": Decimal("10.00") * _PER_MILLION,
    },
    "gemini-embedding-001": {
        "input_tokens": Decimal("0.15") * _PER_MILLION,
        # About four characters to a token.
        "embed_chars": Decimal("0.0375") * _PER_MILLION,
    },
    "gemini-2.5-flash-image": {"image": Decimal("0.039")},
    "veo-3.1-generate-preview": {"video_seconds": Decimal("0.40")},
    "veo-3.1-fast-generate-preview": {"video_seconds": Decimal("0.15")},
}
# An unlisted model is priced like its family's reference model, so a new version never costs 0.
_FAMILIES = (
    ("veo-", "veo-3.1-generate-preview"),
    ("gemini-embedding", "gemini-embedding-001"),
    ("gemini-", "gemini-2.5-flash"),
)


class UnpricedModelError(LookupError):
    """A model with no price in AI_PRICES, the defaults or a known family."""


def cost_for(*, kind: PriceKind, model: str, quantity: float) -> Decimal:
    """Return the cost in dollars of quantity units of kind on model; local models are free."""
    if model.startswith("local-"):
        return Decimal(0)
    prices = _prices_for(model)
    unit = prices.get(kind)
    return Decimal(0) if unit is None else Decimal(str(unit)) * Decimal(str(quantity))


def _prices_for(model: str) -> dict[str, Decimal]:
    configured = getattr(settings, "AI_PRICES", {}) or {}
    if model in configured:
        return configured[model]
    if model in DEFAULT_PRICES:
        return DEFAULT_PRICES[model]
    for prefix, reference in _FAMILIES:
        if model.startswith(prefix):
            return DEFAULT_PRICES[reference]
    raise UnpricedModelError(f"no price for model {model!r}; add it to settings.AI_PRICES")
