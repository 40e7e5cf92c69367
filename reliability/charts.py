"""Server-rendered SVG charts: no JavaScript, a <title> and <desc> each, numbers kept for tables.

A Chart carries its SVG and the rows behind it, so the page can show the same numbers as a table
and the CSV download can write them. Every piece of text is escaped as the SVG is assembled,
which is why the assembled markup may be marked safe.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from reliability.templatetags.reliability import duration

WIDTH = 520
# The trace spans the page, so it is drawn wider to keep its text the same size.
TRACE_WIDTH = 1100
FONT = 'font-family="system-ui, sans-serif"'
# Colour-blind-safe (Okabe-Ito) order for categories without a colour of their own.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#999")
OUTCOME_COLOURS = {
    "passed": "#1f7a4d",
    "auto_approved": "#009e73",
    "retried": "#e69f00",
    "routed": "#0072b2",
    "failed": "#b42318",
}


@dataclass(frozen=True)
class Chart:
    """One chart: its SVG, and the columns and rows of the numbers it draws."""

    slug: str
    title: str
    description: str
    columns: list[str]
    rows: list[list[Any]]
    svg: SafeString

    @property
    def is_empty(self) -> bool:
        return not self.rows


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: a label, a value between 0 and the chart's maximum, its caption."""

    label: str
    value: float | None
    caption: str


@dataclass(frozen=True)
class Stack:
    """One series of a stacked chart: a name, a colour and one value per category."""

    name: str
    values: Sequence[float]
    colour: str = ""


def _open(slug: str, title: str, description: str, height: int, width: int = WIDTH) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{slug}-title {slug}-desc" {FONT} font-size="13">'
        f'<title id="{slug}-title">{escape(title)}</title>'
        f'<desc id="{slug}-desc">{escape(description)}</desc>'
    )


def _empty(slug: str, title: str, description: str, columns: list[str]) -> Chart:
    svg = (
        _open(slug, title, description, 60)
        + '<text x="12" y="34" fill="#718096">No data for these filters yet.</text></svg>'
    )
    return Chart(slug, title, description, columns, [], mark_safe(svg))


def horizontal_bars(
    *,
    slug: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    columns: list[str],
    rows: list[list[Any]],
    maximum: float = 1.0,
    colours: Sequence[str] = (),
) -> Chart:
    """Draw one labelled horizontal bar per item, captioned with its number."""
    if not bars:
        return _empty(slug, title, description, columns)
    label_w, caption_w, bar_h, gap = 150, 110, 20, 10
    plot_w = WIDTH - label_w - caption_w
    height = gap + len(bars) * (bar_h + gap)
    parts = [_open(slug, title, description, height)]
    for i, bar in enumerate(bars):
        y = gap + i * (bar_h + gap)
        share = 0.0 if bar.value is None or not maximum else max(0.0, min(1.0, bar.value / maximum))
        colour = colours[i % len(colours)] if colours else PALETTE[0]
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end" fill="#1c2333">'
            f"{escape(_clip(bar.label, 22))}</text>"
            f'<rect x="{label_w}" y="{y}" width="{plot_w}" height="{bar_h}" fill="#eef1f5" rx="3"/>'
            f'<rect x="{label_w}" y="{y}" width="{plot_w * share:.1f}" height="{bar_h}" '
            f'fill="{colour}" rx="3"/>'
            f'<text x="{label_w + plot_w + 8}" y="{y + 14}" fill="#4a5568">'
            f"{escape(bar.caption)}</text>"
        )
    parts.append("</svg>")
    return Chart(slug, title, description, columns, rows, mark_safe("".join(parts)))


def stacked_columns(
    *,
    slug: str,
    title: str,
    description: str,
    categories: Sequence[str],
    stacks: Sequence[Stack],
    columns: list[str],
    rows: list[list[Any]],
) -> Chart:
    """Draw one column per category, stacked by series, with a legend and a value axis."""
    totals = [sum(stack.values[i] for stack in stacks) for i in range(len(categories))]
    if not categories or not any(totals):
        return _empty(slug, title, description, columns)
    left, top, plot_h, bottom = 44, 12, 190, 34
    longest = max(len(stack.name) for stack in stacks)
    per_row = max(1, min(4, int((WIDTH - left) // (min(longest, 24) * 7.5 + 28))))
    legend_rows = (len(stacks) + per_row - 1) // per_row
    height = top + plot_h + bottom + legend_rows * 20 + 8
    plot_w = WIDTH - left - 12
    slot = plot_w / len(categories)
    column_w = max(4.0, min(56.0, slot * 0.7))
    ceiling = _nice_ceiling(max(totals))
    parts = [_open(slug, title, description, height)]
    for tick in range(5):
        value = ceiling * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            f'<line x1="{left}" x2="{WIDTH - 12}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dde3ea"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#718096">'
            f"{_number(value)}</text>"
        )
    label_every = max(1, round(len(categories) / 12))
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - column_w) / 2
        y = top + plot_h
        for n, stack in enumerate(stacks):
            value = stack.values[i]
            if not value:
                continue
            h = plot_h * value / ceiling
            y -= h
            colour = stack.colour or PALETTE[n % len(PALETTE)]
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{column_w:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(category)} · {escape(stack.name)}: '
                f"{_number(value)}</title></rect>"
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + column_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                f'fill="#4a5568">{escape(_clip(category, 14))}</text>'
            )
    legend_y = top + plot_h + bottom
    for n, stack in enumerate(stacks):
        x = left + (n % per_row) * (plot_w / per_row)
        y = legend_y + (n // per_row) * 20
        colour = stack.colour or PALETTE[n % len(PALETTE)]
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="12" height="12" fill="{colour}" rx="2"/>'
            f'<text x="{x + 18:.1f}" y="{y + 10}" fill="#1c2333">'
            f"{escape(_clip(stack.name, 24))}</text>"
        )
    parts.append("</svg>")
    return Chart(slug, title, description, columns, rows, mark_safe("".join(parts)))


def _nice_ceiling(value: float) -> float:
    """Round a count up so four gridlines fall on whole, round numbers."""
    needed = math.ceil(max(value, 1) / 4)
    magnitude = 10 ** (len(str(needed)) - 1)
    steps = (f * magnitude for f in (1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10))
    step = next(s for s in steps if s >= needed and float(s).is_integer())
    return 4 * step


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


# --- The dashboard's charts ---------------------------------------------------------------------
def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _rate_cell(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _bucket_label(moment, bucket: str) -> str:
    return moment.strftime("%d %b %H:00" if bucket == "hour" else "%d %b")


def _series_chart(slug: str, title: str, description: str, series) -> Chart:
    names = list(series.counts)
    categories = [_bucket_label(moment, series.bucket) for moment in series.buckets]
    rows = [
        [moment.isoformat(), *(series.counts[name][i] for name in names)]
        for i, moment in enumerate(series.buckets)
    ]
    return stacked_columns(
        slug=slug,
        title=title,
        description=description,
        categories=categories,
        stacks=[Stack(name, series.counts[name]) for name in names],
        columns=["period_start", *names],
        rows=rows,
    )


def _approval_chart(slug: str, title: str, description: str, groups) -> Chart:
    return horizontal_bars(
        slug=slug,
        title=title,
        description=description,
        bars=[
            Bar(g.name, g.rate, f"{_percent(g.rate)} of {g.approved + g.rejected}") for g in groups
        ],
        columns=["name", "approved", "rejected", "approval_rate"],
        rows=[[g.name, g.approved, g.rejected, _rate_cell(g.rate)] for g in groups],
        colours=("#1f7a4d",),
    )


def dashboard_charts(data) -> list[Chart]:
    """Build the dashboard's charts (each with its table and CSV rows) from its figures."""
    steps, e2e, footage = data.steps, data.end_to_end, data.footage
    outcomes = ("passed", "auto_approved", "retried", "routed", "failed")
    step_chart = stacked_columns(
        slug="steps",
        title="Attempts per step, by outcome",
        description=(
            "For each pipeline step, how many attempts passed, were auto-approved, retried, "
            "were routed to a human or failed."
        ),
        categories=[s.label for s in steps],
        stacks=[
            Stack(
                name.replace("_", "-").capitalize(),
                [getattr(s, name) for s in steps],
                OUTCOME_COLOURS[name],
            )
            for name in outcomes
        ],
        columns=[
            "step",
            "attempts",
            *outcomes,
            "pass_rate",
            "p50_latency_ms",
            "p95_latency_ms",
            "cost_usd",
        ],
        rows=[
            [
                s.step,
                s.attempts,
                *(getattr(s, name) for name in outcomes),
                _rate_cell(s.pass_rate),
                "" if s.p50_ms is None else round(s.p50_ms),
                "" if s.p95_ms is None else round(s.p95_ms),
                f"{s.cost:.4f}",
            ]
            for s in steps
        ],
    )
    rates = [
        ("Predicted (product)", "predicted_e2e", e2e.predicted, None, None),
        ("Shots without rescue", "measured_e2e_shots", e2e.measured_shots,
         e2e.shots_clean, e2e.shots_decided),
        ("Briefs without rescue", "measured_e2e_briefs", e2e.measured_briefs,
         e2e.briefs_clean, e2e.briefs_settled),
        ("First-pass approval", "first_pass_approval", e2e.first_pass_approval,
         e2e.shots_first_pass, e2e.shots_reviewed),
    ]  # fmt: skip
    e2e_rows = [[key, _rate_cell(value), part, whole] for _, key, value, part, whole in rates]
    e2e_rows += [
        [
            "takes_per_approved_shot",
            _rate_cell(footage.takes_per_approved_shot),
            footage.takes_for_approved_shots,
            footage.approved_shots,
        ],
        [
            "cost_per_approved_second_usd",
            "" if footage.cost_per_approved_second is None else footage.cost_per_approved_second,
            f"{footage.spent:.4f}",
            round(footage.approved_seconds, 2),
        ],
    ]
    e2e_chart = horizontal_bars(
        slug="end-to-end",
        title="Predicted against measured end to end",
        description=(
            "The product of the step pass rates beside the share of decided shots and settled "
            "briefs that reached approval without a human rescue, and first-pass approval."
        ),
        bars=[
            Bar(label, value, _percent(value) + (f" ({part}/{whole})" if whole else ""))
            for label, _, value, part, whole in rates
            if value is not None
        ],
        columns=["measure", "value", "numerator", "denominator"],
        rows=e2e_rows if any(value is not None for *_, value, _p, _w in rates) else [],
        colours=("#718096", "#2f5bd3", "#2f5bd3", "#009e73"),
    )
    return [
        step_chart,
        e2e_chart,
        _series_chart(
            "routed-reasons",
            "Routed to a human, by reason",
            "Handoffs the checks routed to a human queue, per period, by the first failed check.",
            data.routed,
        ),
        _series_chart(
            "rejection-reasons",
            "Rejections, by reason",
            "Directors' rejections per period, by the reason they chose.",
            data.rejections,
        ),
        _approval_chart(
            "approval-by-ip",
            "Approval rate by IP",
            "Approved (by people or by policy) over all review verdicts, per IP.",
            data.by_ip,
        ),
        _approval_chart(
            "approval-by-director",
            "Approval rate by director",
            "Each director's approvals over their applied decisions.",
            data.by_director,
        ),
    ]


def agreement_table(data) -> Chart:
    """Tabulate Cohen's kappa per pair of directors (a table and its CSV, no drawing)."""
    return Chart(
        slug="director-agreement",
        title="Agreement between directors",
        description="Cohen's kappa per pair of directors over the takes both decided.",
        columns=["Directors", "Shared takes", "Agreed", "Observed agreement", "Cohen's kappa"],
        rows=[
            [
                f"{pair.first} & {pair.second}",
                pair.n,
                pair.agreements,
                _rate_cell(pair.observed),
                _rate_cell(pair.kappa),
            ]
            for pair in data.agreement
        ],
        svg=mark_safe(""),
    )


# --- A brief's trace ----------------------------------------------------------------------------
def trace_timeline(trace) -> SafeString:
    """Draw a brief's handoffs as bars on one lane per shot, with the waits for humans hatched."""
    if trace.start is None:
        return mark_safe("")
    width, left, lane_h, top = TRACE_WIDTH, 80, 26, 22
    plot_w = width - left - 12
    span = max((trace.end - trace.start).total_seconds(), 0.001)
    lanes = {name: i for i, name in enumerate(trace.lanes)}
    height = top + len(lanes) * lane_h + 26

    def x_of(moment) -> float:
        return left + plot_w * (moment - trace.start).total_seconds() / span

    title = f"Timeline of brief “{trace.brief.title}”"
    description = (
        f"{len(trace.entries)} handoffs on {len(lanes)} lanes from "
        f"{trace.start:%d %b %H:%M:%S} to {trace.end:%d %b %H:%M:%S} UTC; hatched bars are "
        "waits for a person."
    )
    parts = [
        _open("trace", title, description, height, width),
        '<defs><pattern id="wait-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff3d6"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#e69f00" stroke-width="2"/></pattern></defs>',
    ]
    for name, i in lanes.items():
        y = top + i * lane_h
        parts.append(
            f'<rect x="{left}" y="{y}" width="{plot_w}" height="{lane_h - 4}" fill="#f8fafc"/>'
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" fill="#1c2333">'
            f"{escape(name)}</text>"
        )
    for wait in trace.waits:
        y = top + lanes[wait.lane] * lane_h + 3
        x = x_of(wait.start)
        w = max(2.0, x_of(wait.end) - x)
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{lane_h - 10}" '
            f'fill="url(#wait-hatch)" stroke="#e69f00"><title>Waiting for a person '
            f"({escape(wait.reason)}): {duration(wait.seconds)}</title></rect>"
        )
    for entry in trace.entries:
        row = entry.handoff
        y = top + lanes[entry.lane] * lane_h + 1
        x = x_of(row.started_at)
        w = max(3.0, x_of(row.finished_at) - x)
        colour = OUTCOME_COLOURS.get(row.outcome, "#999")
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{lane_h - 6}" fill="{colour}" '
            f'rx="2"><title>{escape(row.get_step_display())} attempt {row.attempt}: '
            f"{escape(row.get_outcome_display())} ({row.latency_ms} ms)</title></rect>"
        )
    axis_y = top + len(lanes) * lane_h + 14
    for fraction, anchor in ((0, "start"), (0.5, "middle"), (1, "end")):
        moment = trace.start + (trace.end - trace.start) * fraction
        parts.append(
            f'<text x="{left + plot_w * fraction:.1f}" y="{axis_y}" text-anchor="{anchor}" '
            f'fill="#718096">{moment:%H:%M:%S}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
