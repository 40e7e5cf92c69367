"""Reads for reliability: per-step figures, end-to-end rates and where failures concentrate.

Every figure comes from briefs.Handoff rows (the log of every step attempt) and review decisions.
Definitions (also in docs/reliability.md):
- a step's pass rate is passed (or auto-approved) attempts over all its attempts, retries included;
- predicted end to end is the product of the pass rates of the steps that ran;
- a shot reached approval *without rescue* when it is approved, its approved take was made by the
  pipeline (not a re-prompt), and none of its handoffs was routed to a human or rejected; the
  measured end-to-end rate is the share of decided shots (approved, rejected, failed or waiting for
  a human) that did;
- first-pass approval is the share of reviewed shots whose first verdict was an approval.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Aggregate,
    Count,
    Exists,
    F,
    FloatField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDay, TruncHour
from django.utils import timezone

from briefs.models import Brief, Handoff, Shot, Take
from review.models import Decision

Step = Handoff.Step
Outcome = Handoff.Outcome
PASSING = (Outcome.PASSED, Outcome.AUTO_APPROVED)
STEP_ORDER = [step.value for step in Step]
DECIDED_SHOT_STATUSES = (
    Shot.Status.APPROVED,
    Shot.Status.REJECTED,
    Shot.Status.FAILED,
    Shot.Status.NEEDS_HUMAN,
)
IN_FLIGHT_SHOT_STATUSES = (
    Shot.Status.PLANNED,
    Shot.Status.GENERATING,
    Shot.Status.CHECKING,
    Shot.Status.READY,
)
# Names of the briefs.checks findings, as people call them.
FINDING_LABELS = {
    "black": "Black clip",
    "blank": "Blank clip",
    "frozen": "Frozen clip",
    "duration": "Wrong duration",
    "aspect": "Wrong aspect ratio",
    "palette": "Off-palette",
    "critic": "Low critic score",
    "references": "References",
    "pinned_rights": "Rights not cleared",
    "shot_count": "Wrong shot count",
    "prompts": "Empty prompt",
    "durations": "Invalid durations",
}


class Percentile(Aggregate):
    """PostgreSQL's continuous percentile of an expression, e.g. Percentile("latency_ms", 0.95)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: str, fraction: float, **extra) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("a percentile is a fraction between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


@dataclass(frozen=True)
class Filters:
    """What the figures are narrowed to; None means "any"."""

    ip_id: int | None = None
    brief_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    # The briefs the viewer may see (briefs.selectors.visible_briefs); None: every brief.
    scope: QuerySet[Brief] | None = field(default=None, compare=False)

    def handoffs(self) -> QuerySet[Handoff]:
        """Return the handoffs these filters select (by when the attempt finished)."""
        rows = Handoff.objects.all()
        if self.scope is not None:
            rows = rows.filter(brief__in=self.scope.values("pk"))
        if self.ip_id:
            rows = rows.filter(brief__ip_id=self.ip_id)
        if self.brief_id:
            rows = rows.filter(brief_id=self.brief_id)
        if self.since:
            rows = rows.filter(finished_at__gte=self.since)
        if self.until:
            rows = rows.filter(finished_at__lt=self.until)
        return rows

    def decisions(self) -> QuerySet[Decision]:
        """Return the applied review decisions these filters select."""
        rows = Decision.objects.filter(applied=True)
        if self.scope is not None:
            rows = rows.filter(take__shot__brief__in=self.scope.values("pk"))
        if self.ip_id:
            rows = rows.filter(take__shot__brief__ip_id=self.ip_id)
        if self.brief_id:
            rows = rows.filter(take__shot__brief_id=self.brief_id)
        if self.since:
            rows = rows.filter(created_at__gte=self.since)
        if self.until:
            rows = rows.filter(created_at__lt=self.until)
        return rows

    def briefs(self) -> QuerySet[Brief]:
        """Return the briefs these filters select (by when they were submitted)."""
        rows = Brief.objects.all()
        if self.scope is not None:
            rows = rows.filter(pk__in=self.scope.values("pk"))
        if self.ip_id:
            rows = rows.filter(ip_id=self.ip_id)
        if self.brief_id:
            rows = rows.filter(pk=self.brief_id)
        if self.since:
            rows = rows.filter(created_at__gte=self.since)
        if self.until:
            rows = rows.filter(created_at__lt=self.until)
        return rows


@dataclass(frozen=True)
class StepMetrics:
    """One step's attempts by outcome, latency percentiles and cost."""

    step: str
    attempts: int
    passed: int
    retried: int
    routed: int
    failed: int
    auto_approved: int
    p50_ms: float | None
    p95_ms: float | None
    cost: Decimal

    @property
    def label(self) -> str:
        return Step(self.step).label

    @property
    def pass_rate(self) -> float | None:
        """Passed (or auto-approved) attempts over all attempts; None when nothing ran."""
        if not self.attempts:
            return None
        return (self.passed + self.auto_approved) / self.attempts


@dataclass(frozen=True)
class EndToEnd:
    """Predicted against measured end-to-end reliability, and first-pass approval."""

    predicted: float | None
    shots_decided: int
    shots_clean: int
    briefs_settled: int
    briefs_clean: int
    shots_reviewed: int
    shots_first_pass: int

    @property
    def measured_shots(self) -> float | None:
        return _ratio(self.shots_clean, self.shots_decided)

    @property
    def measured_briefs(self) -> float | None:
        return _ratio(self.briefs_clean, self.briefs_settled)

    @property
    def first_pass_approval(self) -> float | None:
        return _ratio(self.shots_first_pass, self.shots_reviewed)


@dataclass(frozen=True)
class Approval:
    """Approvals and rejections of one group (an IP, a director)."""

    name: str
    approved: int
    rejected: int

    @property
    def rate(self) -> float | None:
        return _ratio(self.approved, self.approved + self.rejected)


@dataclass(frozen=True)
class Series:
    """Counts per category per time bucket: reasons over time."""

    buckets: list[datetime]
    bucket: str
    counts: dict[str, list[int]] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int]:
        return {name: sum(values) for name, values in self.counts.items()}


@dataclass(frozen=True)
class Yield:
    """What approved footage cost, in takes and in money."""

    approved_shots: int
    takes_for_approved_shots: int
    approved_seconds: float
    spent: Decimal

    @property
    def takes_per_approved_shot(self) -> float | None:
        return _ratio(self.takes_for_approved_shots, self.approved_shots)

    @property
    def cost_per_approved_second(self) -> Decimal | None:
        if not self.approved_seconds:
            return None
        return (self.spent / Decimal(str(self.approved_seconds))).quantize(Decimal("0.0001"))


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def step_metrics(filters: Filters) -> list[StepMetrics]:
    """Return, per step in pipeline order, attempts by outcome, p50/p95 latency and cost."""
    rows = (
        filters.handoffs()
        .values("step")
        .annotate(
            attempts=Count("pk"),
            passed=Count("pk", filter=Q(outcome=Outcome.PASSED)),
            retried=Count("pk", filter=Q(outcome=Outcome.RETRIED)),
            routed=Count("pk", filter=Q(outcome=Outcome.ROUTED)),
            failed=Count("pk", filter=Q(outcome=Outcome.FAILED)),
            auto_approved=Count("pk", filter=Q(outcome=Outcome.AUTO_APPROVED)),
            p50_ms=Percentile("latency_ms", 0.5),
            p95_ms=Percentile("latency_ms", 0.95),
            cost=Coalesce(Sum("cost"), Decimal(0)),
        )
        .order_by()
    )
    by_step = {row["step"]: StepMetrics(**row) for row in rows}
    return [by_step[step] for step in STEP_ORDER if step in by_step]


def predicted_end_to_end(steps: Iterable[StepMetrics]) -> float | None:
    """Multiply the pass rates of the steps that ran: what unchecked handoffs would deliver."""
    rates = [s.pass_rate for s in steps if s.pass_rate is not None]
    return math.prod(rates) if rates else None


def _shots(filters: Filters) -> QuerySet[Shot]:
    shots = Shot.objects.filter(brief__in=filters.briefs())
    rescued = Handoff.objects.filter(shot=OuterRef("pk")).filter(
        Q(outcome=Outcome.ROUTED) | Q(step=Step.REVIEW, outcome=Outcome.FAILED)
    )
    reprompted = Take.objects.filter(shot=OuterRef("pk"), is_current=True, created_by__isnull=False)
    first_review = Handoff.objects.filter(shot=OuterRef("pk"), step=Step.REVIEW).order_by(
        "started_at", "pk"
    )
    return shots.annotate(
        rescued=Exists(rescued),
        reprompted=Exists(reprompted),
        first_review=Subquery(first_review.values("outcome")[:1]),
    )


def end_to_end(filters: Filters, steps: Sequence[StepMetrics]) -> EndToEnd:
    """Compare the predicted rate with shots and briefs that reached approval without rescue."""
    shots = list(
        _shots(filters).values(
            "brief_id", "brief__status", "status", "rescued", "reprompted", "first_review"
        )
    )
    by_brief: dict[int, list[dict]] = defaultdict(list)
    decided = clean = reviewed = first_pass = 0
    for shot in shots:
        shot["clean"] = (
            shot["status"] == Shot.Status.APPROVED
            and not shot["rescued"]
            and not shot["reprompted"]
        )
        by_brief[shot["brief_id"]].append(shot)
        if shot["status"] in DECIDED_SHOT_STATUSES:
            decided += 1
            clean += shot["clean"]
        if shot["first_review"]:
            reviewed += 1
            first_pass += shot["first_review"] in PASSING
    settled_briefs = clean_briefs = 0
    for brief_shots in by_brief.values():
        status = brief_shots[0]["brief__status"]
        if status == Brief.Status.CANCELLED:
            continue
        if any(s["status"] in IN_FLIGHT_SHOT_STATUSES for s in brief_shots):
            continue
        settled_briefs += 1
        clean_briefs += status == Brief.Status.COMPLETED and all(s["clean"] for s in brief_shots)
    return EndToEnd(
        predicted=predicted_end_to_end(steps),
        shots_decided=decided,
        shots_clean=clean,
        briefs_settled=settled_briefs,
        briefs_clean=clean_briefs,
        shots_reviewed=reviewed,
        shots_first_pass=first_pass,
    )


def reason_category(step: str, detail: dict, reasons: Sequence[str]) -> str:
    """Name what went wrong in a handoff: its first failed check, else the kind of error."""
    for finding in (detail or {}).get("checks", []):
        if not finding.get("passed", True):
            name = finding.get("name", "")
            return FINDING_LABELS.get(name, name.replace("_", " ").capitalize())
    text = " ".join(reasons).lower()
    if "safety filter" in text:
        return "Safety filter"
    if "budget" in text:
        return "Budget cap"
    if "kept failing" in text:
        return "Provider kept failing"
    if "decoded" in text:
        return "Undecodable clip"
    return f"{Step(step).label} error" if step in STEP_ORDER else "Error"


def _bucket_kind(filters: Filters, first: datetime | None, last: datetime | None) -> str:
    since = filters.since or first
    until = filters.until or last
    if since and until and until - since <= timedelta(days=2):
        return "hour"
    return "day"


def _series(events: list[tuple[datetime, str]], bucket: str) -> Series:
    def floor(moment: datetime) -> datetime:
        if bucket == "hour":
            return moment.replace(minute=0, second=0, microsecond=0)
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)

    if not events:
        return Series(buckets=[], bucket=bucket)
    step = timedelta(hours=1) if bucket == "hour" else timedelta(days=1)
    start, end = floor(min(e[0] for e in events)), floor(max(e[0] for e in events))
    buckets = [start + step * i for i in range(int((end - start) / step) + 1)]
    index = {moment: i for i, moment in enumerate(buckets)}
    ranked = [name for name, _ in Counter(name for _, name in events).most_common()]
    counts = {name: [0] * len(buckets) for name in ranked}
    for moment, name in events:
        counts[name][index[floor(moment)]] += 1
    return Series(buckets=buckets, bucket=bucket, counts=counts)


def routed_reasons(filters: Filters) -> Series:
    """Count handoffs routed to a human, by reason, per hour or day."""
    rows = filters.handoffs().filter(outcome=Outcome.ROUTED).order_by("finished_at")
    events = [
        (finished_at, reason_category(step, detail, reasons))
        for step, detail, reasons, finished_at in rows.values_list(
            "step", "detail", "reasons", "finished_at"
        )
    ]
    first = events[0][0] if events else None
    last = events[-1][0] if events else None
    return _series(events, _bucket_kind(filters, first, last))


def rejection_reasons(filters: Filters) -> Series:
    """Count directors' rejections, by reason, per hour or day."""
    rejections = filters.decisions().filter(verdict=Decision.Verdict.REJECTED)
    span = rejections.order_by().aggregate(first=Min("created_at"), last=Max("created_at"))
    bucket = _bucket_kind(filters, span["first"], span["last"])
    trunc = TruncHour if bucket == "hour" else TruncDay
    rows = (
        rejections.annotate(moment=trunc("created_at"))
        .values("moment", "reason")
        .annotate(n=Count("pk"))
        .order_by("moment")
    )
    labels = dict(Decision.Reason.choices)
    events = [
        (row["moment"], labels.get(row["reason"], row["reason"]))
        for row in rows
        for _ in range(row["n"])
    ]
    return _series(events, bucket)


def approval_by_ip(filters: Filters) -> list[Approval]:
    """Return approvals (human or automatic) and rejections per IP, most reviewed first."""
    rows = (
        filters.handoffs()
        .filter(step=Step.REVIEW)
        .values(name=F("brief__ip__name"))
        .annotate(
            approved=Count("pk", filter=Q(outcome__in=PASSING)),
            rejected=Count("pk", filter=Q(outcome=Outcome.FAILED)),
        )
        .order_by("name")
    )
    return sorted(
        (Approval(**row) for row in rows), key=lambda a: (-(a.approved + a.rejected), a.name)
    )


def approval_by_director(filters: Filters) -> list[Approval]:
    """Return each director's applied approvals and rejections, most active first."""
    rows = (
        filters.decisions()
        .values("user__username", "user__first_name", "user__last_name")
        .annotate(
            approved=Count("pk", filter=Q(verdict=Decision.Verdict.APPROVED)),
            rejected=Count("pk", filter=Q(verdict=Decision.Verdict.REJECTED)),
        )
        .order_by("user__username")
    )
    approvals = [
        Approval(
            name=f"{row['user__first_name']} {row['user__last_name']}".strip()
            or row["user__username"],
            approved=row["approved"],
            rejected=row["rejected"],
        )
        for row in rows
    ]
    return sorted(approvals, key=lambda a: (-(a.approved + a.rejected), a.name))


@dataclass(frozen=True)
class PairAgreement:
    """How two directors' verdicts on the takes both decided agree, beyond chance."""

    first: str
    second: str
    n: int
    agreements: int
    kappa: float | None

    @property
    def observed(self) -> float | None:
        return _ratio(self.agreements, self.n)


def cohens_kappa(verdicts: Sequence[tuple[str, str]]) -> float | None:
    """Return Cohen's kappa for two raters' verdicts on the same items (None when undefined).

    Undefined with no shared items, and when both raters gave one and the same verdict every
    time: chance then explains all of their agreement, so there is nothing beyond it to measure.
    """
    n = len(verdicts)
    if not n:
        return None
    observed = sum(a == b for a, b in verdicts) / n
    firsts, seconds = Counter(a for a, _ in verdicts), Counter(b for _, b in verdicts)
    expected = sum(firsts[v] * seconds[v] for v in firsts) / (n * n)
    if expected >= 1:
        return None
    return (observed - expected) / (1 - expected)


def director_agreement(filters: Filters) -> list[PairAgreement]:
    """Return Cohen's kappa per pair of directors over the takes both approved or rejected.

    Each director's verdict on a take is their latest applied one (a changed mind replaces the
    earlier verdict); pairs with no take in common are left out. Most shared takes first.
    """
    rows = (
        filters.decisions()
        .order_by("created_at", "pk")
        .values_list(
            "take_id", "user_id", "verdict", "user__username", "user__first_name", "user__last_name"
        )
    )
    latest: dict[int, dict[int, str]] = defaultdict(dict)
    names: dict[int, str] = {}
    for take_id, user_id, verdict, username, first, last in rows:
        latest[take_id][user_id] = verdict
        names[user_id] = f"{first} {last}".strip() or username
    shared: dict[tuple[int, int], list[tuple[str, str]]] = defaultdict(list)
    for verdicts in latest.values():
        deciders = sorted(verdicts, key=lambda user_id: (names[user_id], user_id))
        for i, first in enumerate(deciders):
            for second in deciders[i + 1 :]:
                shared[first, second].append((verdicts[first], verdicts[second]))
    pairs = [
        PairAgreement(
            first=names[first],
            second=names[second],
            n=len(verdicts),
            agreements=sum(a == b for a, b in verdicts),
            kappa=cohens_kappa(verdicts),
        )
        for (first, second), verdicts in shared.items()
    ]
    return sorted(pairs, key=lambda pair: (-pair.n, pair.first, pair.second))


def footage_yield(filters: Filters) -> Yield:
    """Return takes per approved shot and what the selected briefs spent per approved second."""
    briefs = filters.briefs()
    approved = Shot.objects.filter(brief__in=briefs, status=Shot.Status.APPROVED)
    figures = approved.aggregate(
        shots=Count("pk", distinct=True),
        seconds=Coalesce(
            Sum(
                Coalesce("takes__duration_s", F("duration_s"), output_field=FloatField()),
                filter=Q(takes__is_current=True, takes__status=Take.Status.APPROVED),
            ),
            0.0,
        ),
    )
    takes = Take.objects.filter(shot__in=approved).count()
    spent = briefs.aggregate(total=Coalesce(Sum("spent"), Decimal(0)))["total"]
    return Yield(
        approved_shots=figures["shots"],
        takes_for_approved_shots=takes,
        approved_seconds=float(figures["seconds"]),
        spent=spent,
    )


@dataclass(frozen=True)
class Dashboard:
    """Everything the reliability dashboard shows for one set of filters."""

    filters: Filters
    steps: list[StepMetrics]
    end_to_end: EndToEnd
    routed: Series
    rejections: Series
    by_ip: list[Approval]
    by_director: list[Approval]
    footage: Yield
    agreement: list[PairAgreement]


def dashboard(filters: Filters) -> Dashboard:
    """Compute every dashboard figure for the filters."""
    steps = step_metrics(filters)
    return Dashboard(
        filters=filters,
        steps=steps,
        end_to_end=end_to_end(filters, steps),
        routed=routed_reasons(filters),
        rejections=rejection_reasons(filters),
        by_ip=approval_by_ip(filters),
        by_director=approval_by_director(filters),
        footage=footage_yield(filters),
        agreement=director_agreement(filters),
    )


# --- Trace --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TraceEntry:
    """One handoff as the trace shows it: where it ran, who decided, what went in and out."""

    handoff: Handoff
    lane: str
    decided_by: str
    summary: list[str]
    failed_checks: list[dict]


@dataclass(frozen=True)
class HumanWait:
    """A stretch of time the brief (or one take) waited for a person."""

    lane: str
    start: datetime
    end: datetime
    reason: str
    ongoing: bool

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Trace:
    """Every handoff of one brief in order, the waits for humans between them, and totals."""

    brief: Brief
    entries: list[TraceEntry]
    waits: list[HumanWait]
    lanes: list[str]
    start: datetime | None
    end: datetime | None

    @property
    def totals(self) -> dict[str, Any]:
        rows = [entry.handoff for entry in self.entries]
        outcomes = Counter(row.outcome for row in rows)
        return {
            "attempts": len(rows),
            "retried": outcomes[Outcome.RETRIED],
            "routed": outcomes[Outcome.ROUTED],
            "failed": outcomes[Outcome.FAILED],
            "cost": sum((row.cost for row in rows), Decimal(0)),
            "human_wait_s": sum(wait.seconds for wait in self.waits),
            "wall_s": (self.end - self.start).total_seconds() if self.start and self.end else 0,
        }


def _lane(handoff: Handoff) -> str:
    return f"Shot {handoff.shot.order}" if handoff.shot_id else "Brief"


def summarise_handoff(handoff: Handoff) -> list[str]:
    """Summarise what went into and came out of a handoff, in a few short lines."""
    detail = handoff.detail or {}
    lines: list[str] = []
    if detail.get("query"):
        lines.append(f"Query: “{_short(detail['query'], 90)}”")
    if "hits" in detail:
        hits = detail["hits"]
        best = ", ".join(f"{hit['title']} ({hit['score']:.3f})" for hit in hits[:3])
        lines.append(f"{len(hits)} reference(s) found" + (f": {best}" if best else ""))
    if detail.get("pinned"):
        lines.append(f"{len(detail['pinned'])} pinned reference(s)")
    if "shots" in detail and isinstance(detail["shots"], list):
        prompts = detail["shots"]
        first = f": “{_short(prompts[0], 70)}”…" if prompts else ""
        lines.append(f"Plan of {len(prompts)} shot(s){first}")
    if "approved_by" in detail:
        lines.append(f"Plan approved for {detail.get('shots', '?')} shot(s)")
    if detail.get("operation"):
        size = detail.get("bytes")
        kb = f"{size / 1024:.0f} KB clip" if size else "clip"
        lines.append(f"{kb} from operation {_short(str(detail['operation']), 40)}")
    findings = detail.get("checks") or []
    if findings:
        passed = sum(1 for f in findings if f.get("passed"))
        lines.append(f"{passed} of {len(findings)} checks passed")
    if detail.get("critic"):
        lines.append("Critic: " + _short("; ".join(detail["critic"]), 100))
    if detail.get("retry_in_s") is not None:
        lines.append(f"Retry scheduled in {detail['retry_in_s']} s")
    if detail.get("verdict"):
        lines.append(f"Verdict: {detail['verdict']} (take version {detail.get('version', '?')})")
    if detail.get("policy"):
        lines.append(f"Decided by autonomy policy #{detail['policy']}")
    return lines


def _short(text: str, length: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= length else text[: length - 1] + "…"


def _human_waits(brief: Brief, handoffs: list[Handoff], now: datetime) -> list[HumanWait]:
    """Find where the brief or a take sat waiting for a person, from the handoff log."""
    waits: list[HumanWait] = []
    brief_rows = [h for h in handoffs if h.take_id is None]
    for i, row in enumerate(brief_rows):
        needs_person = row.outcome == Outcome.ROUTED or (
            row.step == Step.PLAN and row.outcome == Outcome.PASSED and brief.requires_plan_approval
        )
        if not needs_person:
            continue
        later = next((h for h in brief_rows[i + 1 :] if h.started_at >= row.finished_at), None)
        reason = "plan approval" if row.outcome == Outcome.PASSED else "routed: a human must act"
        if later is not None:
            waits.append(HumanWait("Brief", row.finished_at, later.started_at, reason, False))
        elif brief.status in (Brief.Status.AWAITING_PLAN_APPROVAL, Brief.Status.NEEDS_ATTENTION):
            waits.append(HumanWait("Brief", row.finished_at, now, reason, True))
    by_take: dict[int, list[Handoff]] = defaultdict(list)
    for row in handoffs:
        if row.take_id:
            by_take[row.take_id].append(row)
    for rows in by_take.values():
        handed = next(
            (
                h
                for h in rows
                if h.outcome == Outcome.ROUTED or (h.step == Step.CHECK and h.outcome == "passed")
            ),
            None,
        )
        if handed is None:
            continue
        review = next((h for h in rows if h.step == Step.REVIEW), None)
        reason = "review" if handed.outcome == Outcome.PASSED else "routed: a human must act"
        if review is not None:
            end = review.started_at
            if review.outcome == Outcome.AUTO_APPROVED:
                continue
            waits.append(HumanWait(_lane(handed), handed.finished_at, end, reason, False))
        elif handed.take.status in (Take.Status.READY, Take.Status.ROUTED):
            waits.append(HumanWait(_lane(handed), handed.finished_at, now, reason, True))
    return waits


def brief_trace(brief_id: int, *, now: datetime | None = None) -> Trace:
    """Return the brief's handoffs on one timeline, with who decided and the waits for humans."""
    now = now or timezone.now()
    brief = Brief.objects.select_related("ip", "producer").get(pk=brief_id)
    handoffs = list(
        Handoff.objects.filter(brief_id=brief_id)
        .select_related("shot", "take")
        .order_by("started_at", "pk")
    )
    deciders: dict[int, list[str]] = defaultdict(list)
    # Sign-offs awaiting other directors move nothing, so they have no review handoff.
    decisions = (
        Decision.objects.filter(take__shot__brief_id=brief_id, applied=True)
        .exclude(effect=Decision.Effect.SIGNED)
        .select_related("user")
        .order_by("created_at", "pk")
    )
    for decision in decisions:
        deciders[decision.take_id].append(
            decision.user.get_full_name() or decision.user.get_username()
        )
    entries = []
    for row in handoffs:
        decided_by = ""
        if row.step == Step.REVIEW:
            if row.outcome == Outcome.AUTO_APPROVED:
                decided_by = "the machine (autonomy policy)"
            elif deciders.get(row.take_id):
                decided_by = deciders[row.take_id].pop(0)
        elif row.step == Step.PLAN_GATE:
            decided_by = row.worker.removeprefix("user:")
        failed = [f for f in (row.detail or {}).get("checks", []) if not f.get("passed", True)]
        entries.append(
            TraceEntry(
                handoff=row,
                lane=_lane(row),
                decided_by=decided_by,
                summary=summarise_handoff(row),
                failed_checks=failed,
            )
        )
    waits = _human_waits(brief, handoffs, now)
    shot_lanes = {entry.lane for entry in entries if entry.lane != "Brief"}
    lanes = ["Brief", *sorted(shot_lanes, key=lambda name: int(name.split()[-1]))]
    moments = [h.started_at for h in handoffs] + [h.finished_at for h in handoffs]
    moments += [w.end for w in waits]
    return Trace(
        brief=brief,
        entries=entries,
        waits=waits,
        lanes=lanes,
        start=min(moments) if moments else None,
        end=max(moments) if moments else None,
    )
