"""Template helpers for the review board: which take a card shows, timecodes, rights badges."""

import json
from functools import lru_cache

from django import template
from django.urls import reverse

from retrieval.selectors import rights_block_reason
from review.signoff import SignOff, sign_off

register = template.Library()


@register.simple_tag
def card_take(shot, shown_take_id=None):
    """Return the take a card shows: the one asked for, else the current one, else the latest."""
    if not hasattr(shot, "take_history"):
        return shot.current_takes[0] if getattr(shot, "current_takes", None) else None
    takes = shot.take_history
    if shown_take_id:
        for take in takes:
            if take.pk == int(shown_take_id):
                return take
    for take in takes:
        if take.is_current:
            return take
    return takes[-1] if takes else None


@register.simple_tag
def take_signoff(take, brief) -> SignOff:
    """Return where the take's sign-off stands, from the card's prefetched decision trail."""
    return sign_off(getattr(take, "decision_trail", ()), needed=brief.approvals_needed)


# Any number that cannot be a real primary key, to find where the pk sits in a URL pattern.
_PK_PLACEHOLDER = 987654321


@lru_cache(maxsize=64)
def _url_pattern(name: str) -> str:
    return reverse(name, args=[_PK_PLACEHOLDER]).replace(str(_PK_PLACEHOLDER), "{pk}")


@register.simple_tag
def pk_url(name: str, pk) -> str:
    """Reverse a URL that takes one pk, resolving the pattern once (a board renders hundreds)."""
    return _url_pattern(name).format(pk=int(pk))


@register.filter
def timecode(seconds) -> str:
    """Format seconds as mm:ss.cc, the way the player shows them."""
    if seconds is None:
        return ""
    seconds = float(seconds)
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:05.2f}"


@register.simple_tag
def percent_of(value, whole) -> str:
    """Position a marker: `value` as a percentage of `whole`, clamped to 0 to 100."""
    if not whole:
        return "0"
    return f"{max(0.0, min(100.0, 100 * float(value or 0) / float(whole))):.2f}"


@register.simple_tag
def rights_problem(asset, brief) -> str:
    """Why the brief may not use this reference (empty when it may)."""
    return (
        rights_block_reason(
            asset, territory=brief.territory, on_date=brief.release_date, use="reference"
        )
        or ""
    )


@register.filter
def status_tone(status: str) -> str:
    """Map a take or shot status to a badge tone."""
    return {
        "approved": "ok",
        "ready": "info",
        "routed": "warn",
        "needs_human": "warn",
        "rejected": "bad",
        "failed": "bad",
        "cancelled": "muted",
    }.get(status, "muted")


@register.filter
def checked(checklist: dict, criterion: str) -> bool:
    """Tell whether a decision ticked a checklist criterion."""
    return bool((checklist or {}).get(criterion))


@register.filter
def as_json(value) -> str:
    """Serialise for a data- attribute (autoescaping keeps it inside the quotes)."""
    return json.dumps(value, separators=(",", ":"))


@register.filter
def pretty_json(value) -> str:
    """Indent JSON for a <pre> block."""
    return json.dumps(value, indent=2, sort_keys=True, default=str)
