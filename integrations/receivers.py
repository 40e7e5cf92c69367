"""Turn what lower layers announce into webhook events."""

from typing import Any

from integrations import webhooks


def take_ready(sender: Any, *, take_id: int, **kwargs: Any) -> None:
    """Emit take.ready."""
    webhooks.emit_take_ready(take_id=take_id)


def brief_completed(sender: Any, *, brief_id: int, **kwargs: Any) -> None:
    """Emit brief.completed."""
    webhooks.emit_brief_completed(brief_id=brief_id)


def take_decided(sender: Any, *, decision: Any, **kwargs: Any) -> None:
    """Emit take.decided."""
    webhooks.emit_take_decided(decision=decision)


def client_verdict_given(sender: Any, *, verdict: Any, **kwargs: Any) -> None:
    """Emit client.verdict."""
    webhooks.emit_client_verdict(verdict=verdict)


def reliability_event(sender: Any, *, name: str, payload: dict, **kwargs: Any) -> None:
    """Emit a reliability event (step.degraded, autonomy.suspended, ...) as it is."""
    webhooks.emit(name, payload)
