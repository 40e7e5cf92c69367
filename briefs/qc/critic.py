"""Turn a critic's answer into QC findings, so it shows beside the measured ones."""

from __future__ import annotations

from django.conf import settings

from briefs.qc.report import QcFinding
from studio.ai.types import Critique


def critic_findings(critique: Critique, *, end_s: float) -> list[QcFinding]:
    """Return the critic's score as a finding, then one finding per criterion it judged."""
    limit = settings.PIPELINE_MIN_CRITIC_SCORE
    reasons = "; ".join(critique.reasons) or "no reasons"
    findings = [
        QcFinding(
            "critic",
            critique.score >= limit,
            round(critique.score, 3),
            f">= {limit}",
            reason=f"{critique.model} scored {critique.score:.2f}: {reasons}",
        )
    ]
    for criterion in critique.criteria:
        start = criterion.start_s if criterion.start_s is not None else 0.0
        end = criterion.end_s if criterion.end_s is not None else end_s
        findings.append(
            QcFinding(
                f"critic:{criterion.name}",
                criterion.passed,
                None,
                "passed",
                None if criterion.passed else round(start, 3),
                None if criterion.passed else round(end, 3),
                criterion.reason,
            )
        )
    return findings
