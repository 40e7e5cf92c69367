"""What a clip check reports: findings with a time range, and the clip's verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class UnreadableClip(ValueError):
    """Bytes that are not a decodable video (not a video, truncated, empty)."""


@dataclass(frozen=True)
class QcFinding:
    """One measured check over a stretch of the clip: value against limit, and why it failed."""

    check: str
    passed: bool
    value: Any
    limit: str
    start_s: float | None = None
    end_s: float | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return the finding as JSON-ready data (the board's markers read start_s/end_s)."""
        return {
            "check": self.check,
            "passed": self.passed,
            "value": self.value,
            "limit": self.limit,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "reason": "" if self.passed else self.reason,
        }


@dataclass(frozen=True)
class ClipReport:
    """Every finding on one clip, plus what was measured about its shape."""

    findings: tuple[QcFinding, ...]
    duration_s: float
    width: int
    height: int
    has_audio: bool
    elapsed_ms: float = 0.0
    measured: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Tell whether no finding failed."""
        return all(finding.passed for finding in self.findings)

    @property
    def failed(self) -> tuple[QcFinding, ...]:
        """Return the failed findings, in the order they were checked."""
        return tuple(finding for finding in self.findings if not finding.passed)

    def reasons(self) -> tuple[str, ...]:
        """Return one line per failed finding."""
        return tuple(finding.reason for finding in self.failed)

    def as_dict(self) -> dict[str, Any]:
        """Return the verdict as JSON-ready data."""
        return {"passed": self.passed, "findings": [f.as_dict() for f in self.findings]}
