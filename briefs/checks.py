"""Validators between steps: each says passed or not, how sure it is, and why.

A step that passes its own tests can still hand garbage to the next one; these are the gates.
Thresholds come from settings (the "Pipeline" section), read at call time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from briefs.qc import ClipReport, QcFinding
from briefs.qc.critic import critic_findings
from studio.ai.types import Critique, Plan

VEO_DURATIONS = (4, 6, 8)


@dataclass(frozen=True)
class Finding:
    """One measured check: what was measured, against what limit, and whether it passed."""

    name: str
    passed: bool
    value: Any
    limit: str
    reason: str = ""
    # Where in the clip a clip check found it (None for checks of a whole plan or search).
    start_s: float | None = None
    end_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the finding as JSON-ready data for Take.checks and Handoff.detail."""
        data = {
            "name": self.name,
            "passed": self.passed,
            "value": self.value,
            "limit": self.limit,
            "reason": "" if self.passed else self.reason,
        }
        if self.start_s is not None:
            data |= {"start_s": self.start_s, "end_s": self.end_s}
        return data

    @classmethod
    def from_qc(cls, finding: QcFinding) -> Finding:
        """Take a clip-QC finding as one of the pipeline's findings."""
        return cls(
            finding.check,
            finding.passed,
            finding.value,
            finding.limit,
            finding.reason,
            finding.start_s,
            finding.end_s,
        )


@dataclass(frozen=True)
class CheckResult:
    """A validator's verdict on one handoff."""

    passed: bool
    confidence: float
    reasons: tuple[str, ...]
    findings: tuple[Finding, ...] = field(default=())
    # False when trying again cannot change the outcome (a human must act).
    retryable: bool = True

    def findings_json(self) -> list[dict[str, Any]]:
        """Return the findings as JSON-ready data."""
        return [finding.as_dict() for finding in self.findings]


def _result(findings: list[Finding], *, confidence: float, retryable: bool = True) -> CheckResult:
    reasons = tuple(f.reason for f in findings if not f.passed)
    return CheckResult(
        passed=not reasons,
        confidence=round(max(0.0, min(1.0, confidence)), 3),
        reasons=reasons,
        findings=tuple(findings),
        retryable=retryable,
    )


def is_strong_hit(hit: Any) -> bool:
    """Tell whether a search hit is close enough to the brief to guide generation."""
    limit = settings.PIPELINE_MAX_REFERENCE_DISTANCE
    close = hit.distance is not None and hit.distance <= limit
    return close or hit.text_rank is not None


def check_retrieval(
    *, hits: Sequence[Any], pinned_count: int, blocked: Sequence[str], search_error: str = ""
) -> CheckResult:
    """Check that enough strong, rights-cleared references came back (pinned ones count)."""
    needed = settings.PIPELINE_MIN_REFERENCES
    strong = sum(1 for hit in hits if is_strong_hit(hit)) + pinned_count
    findings = [
        Finding(
            name="references",
            passed=strong >= needed,
            value=strong,
            limit=f">= {needed}",
            reason=(
                f"only {strong} strong rights-cleared reference(s) found, {needed} needed "
                f"({len(hits)} search hit(s), {pinned_count} pinned)"
            ),
        ),
        *(
            Finding(name="pinned_rights", passed=False, value=text, limit="cleared", reason=text)
            for text in blocked
        ),
        *(
            [
                Finding(
                    name="search", passed=False, value=search_error, limit="ok", reason=search_error
                )
            ]
            if search_error
            else []
        ),
    ]
    # Searching again returns the same catalog: only a person can add or clear references.
    return _result(findings, confidence=strong / max(needed, 1), retryable=False)


def check_plan(
    *,
    plan: Plan,
    shot_count: int,
    known_reference_ids: Collection[int],
    wants_sound: bool = False,
) -> CheckResult:
    """Check the plan has the right number of shots, real prompts, Veo durations, known refs,
    and, when the brief wants sound, an audio line for every shot."""
    shots = plan.shots
    empty = [n for n, shot in enumerate(shots, 1) if not shot.prompt.strip()]
    bad_durations = [n for n, shot in enumerate(shots, 1) if shot.duration_s not in VEO_DURATIONS]
    unknown = sorted(
        {ref for shot in shots for ref in shot.reference_ids if ref not in known_reference_ids}
    )
    findings = [
        Finding(
            "shot_count",
            len(shots) == shot_count,
            len(shots),
            f"= {shot_count}",
            f"plan has {len(shots)} shot(s), the brief asks for {shot_count}",
        ),
        Finding(
            "prompts",
            not empty,
            empty,
            "none empty",
            f"shot(s) {', '.join(map(str, empty))} have an empty prompt",
        ),
        Finding(
            "durations",
            not bad_durations,
            bad_durations,
            "4, 6 or 8 s",
            f"shot(s) {', '.join(map(str, bad_durations))} have a duration Veo does not accept",
        ),
        Finding(
            "references",
            not unknown,
            unknown,
            "retrieved or pinned",
            f"plan names unknown reference id(s) {', '.join(map(str, unknown))}",
        ),
    ]
    if wants_sound:
        silent = [n for n, shot in enumerate(shots, 1) if not shot.audio.strip()]
        findings.append(
            Finding(
                "audio_lines",
                not silent,
                silent,
                "one per shot",
                f"shot(s) {', '.join(map(str, silent))} have no audio line; the brief wants sound",
            )
        )
    failed = sum(1 for f in findings if not f.passed)
    return _result(findings, confidence=1 - failed / len(findings))


def check_grounding(
    *,
    shot_order: int,
    named: Sequence[str],
    unknown: Sequence[str],
    references: Sequence[tuple[str, Collection[str]]],
    ip_name: str,
) -> CheckResult:
    """Check a shot's named characters each have a cleared reference, and no reference strays.

    `references` are (title, characters shown) of the shot's rights-cleared references.
    """
    shown = {name for _, characters in references for name in characters}
    missing = [name for name in named if name not in shown]
    strays = [
        f"“{title}” shows {', '.join(sorted(set(characters) - set(named)))}"
        for title, characters in references
        if set(characters) - set(named)
    ]
    findings = [
        Finding(
            "cast_known",
            not unknown,
            list(unknown),
            f"characters of {ip_name}",
            f"shot {shot_order} names {', '.join(unknown)}, not a character of {ip_name}",
        ),
        Finding(
            "cast_referenced",
            not missing,
            missing,
            "a cleared reference per named character",
            f"shot {shot_order} names {', '.join(missing)} but has no cleared reference of them",
        ),
        Finding(
            "references_match_cast",
            not strays,
            strays,
            "only the characters the shot names",
            f"shot {shot_order} does not name who its references show: {'; '.join(strays)}",
        ),
    ]
    failed = sum(1 for f in findings if not f.passed)
    return _result(findings, confidence=1 - failed / len(findings), retryable=False)


def check_clip(*, report: ClipReport, critique: Critique) -> CheckResult:
    """Judge a take from its clip QC report and the critic's answer, each finding timed."""
    findings = [
        Finding.from_qc(finding)
        for finding in (*report.findings, *critic_findings(critique, end_s=report.duration_s))
    ]
    measured_ok = report.passed
    # The critic's score is the confidence in a pass; a measured failure is near-certain.
    return _result(findings, confidence=critique.score if measured_ok else 0.9)
