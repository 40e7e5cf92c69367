"""Validators between steps: each says passed or not, how sure it is, and why.

A step that passes its own tests can still hand garbage to the next one; these are the gates.
Thresholds come from settings (the "Pipeline" section), read at call time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from studio.ai import media
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

    def as_dict(self) -> dict[str, Any]:
        """Return the finding as JSON-ready data for Take.checks and Handoff.detail."""
        return {
            "name": self.name,
            "passed": self.passed,
            "value": self.value,
            "limit": self.limit,
            "reason": "" if self.passed else self.reason,
        }


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


def check_plan(*, plan: Plan, shot_count: int, known_reference_ids: Collection[int]) -> CheckResult:
    """Check the plan has the right number of shots, real prompts, Veo durations, known refs."""
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
    failed = sum(1 for f in findings if not f.passed)
    return _result(findings, confidence=1 - failed / len(findings))


def check_take(
    *,
    probe: media.VideoProbe,
    critique: Critique,
    expected_duration_s: float,
    aspect_ratio: str,
    reference_palette: Sequence[str],
) -> CheckResult:
    """Check a clip is not black, blank or frozen, has the right shape and palette, and scores."""
    width, height = (int(side) for side in aspect_ratio.split(":"))
    ratio = probe.width / probe.height if probe.height else 0.0
    ratio_error = abs(ratio - width / height) / (width / height)
    # One-directional: a good take uses some of the palette, not necessarily all of it (the
    # symmetric distance rejected good takes of the IP's own art; see briefs/qc/identity.py).
    distance = (
        media.palette_stray([(c, 1.0) for c in probe.dominant_palette], reference_palette)
        if reference_palette and probe.dominant_palette
        else None
    )
    s = settings
    findings = [
        Finding(
            "black",
            probe.mean_luma >= s.PIPELINE_BLACK_LUMA,
            round(probe.mean_luma, 1),
            f">= {s.PIPELINE_BLACK_LUMA}",
            f"clip is black (mean luma {probe.mean_luma:.0f})",
        ),
        Finding(
            "blank",
            probe.luma_std >= s.PIPELINE_BLANK_LUMA_STD,
            round(probe.luma_std, 1),
            f">= {s.PIPELINE_BLANK_LUMA_STD}",
            f"clip is blank, one flat colour (luma std {probe.luma_std:.1f})",
        ),
        Finding(
            "frozen",
            probe.frozen_ratio <= s.PIPELINE_MAX_FROZEN_RATIO,
            round(probe.frozen_ratio, 2),
            f"<= {s.PIPELINE_MAX_FROZEN_RATIO}",
            f"clip is frozen ({probe.frozen_ratio:.0%} of frames do not move)",
        ),
        Finding(
            "duration",
            abs(probe.duration_s - expected_duration_s) <= s.PIPELINE_DURATION_TOLERANCE_S,
            round(probe.duration_s, 2),
            f"{expected_duration_s} ± {s.PIPELINE_DURATION_TOLERANCE_S} s",
            f"clip lasts {probe.duration_s:.1f} s, the shot needs {expected_duration_s} s",
        ),
        Finding(
            "aspect",
            ratio_error <= s.PIPELINE_ASPECT_TOLERANCE,
            f"{probe.width}x{probe.height}",
            aspect_ratio,
            f"clip is {probe.width}x{probe.height}, the brief asks for {aspect_ratio}",
        ),
        Finding(
            "palette",
            distance is None or distance <= s.PIPELINE_MAX_PALETTE_DISTANCE,
            None if distance is None else round(distance, 3),
            f"<= {s.PIPELINE_MAX_PALETTE_DISTANCE}",
            f"colours are far from the references' palette (distance {distance or 0:.2f})",
        ),
        Finding(
            "critic",
            critique.score >= s.PIPELINE_MIN_CRITIC_SCORE,
            round(critique.score, 3),
            f">= {s.PIPELINE_MIN_CRITIC_SCORE}",
            f"critic scored {critique.score:.2f}: {'; '.join(critique.reasons) or 'no reasons'}",
        ),
    ]
    measured_ok = all(f.passed for f in findings)
    # The critic's score is the confidence in a pass; a measured failure is near-certain.
    return _result(findings, confidence=critique.score if measured_ok else 0.9)
