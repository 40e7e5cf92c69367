"""Template filters for the reliability pages: rates, latencies and durations read at a glance."""

from django import template

register = template.Library()


@register.filter
def percent(value) -> str:
    """Format a fraction as a percentage with one decimal ("—" when there is no value)."""
    if value is None or value == "":
        return "—"
    return f"{float(value):.1%}"


@register.filter
def milliseconds(value) -> str:
    """Format a latency in milliseconds as ms or seconds."""
    if value is None or value == "":
        return "—"
    value = float(value)
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.1f} s"


@register.filter
def duration(seconds) -> str:
    """Format seconds as "4 s", "3 min 20 s" or "2 h 5 min"."""
    if seconds is None or seconds == "":
        return "—"
    seconds = int(float(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 600:
        return f"{seconds // 60} min {seconds % 60} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
