"""Sign-off by several directors: who stands where on a take, and what a new verdict does.

Each director's latest applied verdict on a take since a lead director last settled it is their
standing verdict; a director who changes their mind replaces their own, never adds a second.
A take needs `needed` distinct standing approvals and no standing rejection to be approved;
standing approvals and rejections together are a disagreement, which a lead director settles.
With one approval needed, every verdict decides the take, as it always has.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from review.models import Decision

Effect = Decision.Effect
APPROVED = Decision.Verdict.APPROVED


@dataclass(frozen=True)
class SignOff:
    """Where a take's sign-off stands: the approvals and rejections in force, and what is due."""

    needed: int
    approvals: tuple[Decision, ...]
    rejections: tuple[Decision, ...]
    ruling: Decision | None = None

    @property
    def awaited(self) -> int:
        """Return how many more distinct approvals the take needs."""
        return max(0, self.needed - len(self.approvals))

    @property
    def disputed(self) -> bool:
        return self.needed > 1 and bool(self.approvals) and bool(self.rejections)

    @property
    def signed_by(self) -> list[str]:
        return [_name(decision.user) for decision in self.approvals]


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def sign_off(decisions: Iterable[Decision], *, needed: int) -> SignOff:
    """Return the take's sign-off from its decisions (e.g. the board's prefetched trail)."""
    applied = sorted((d for d in decisions if d.applied), key=lambda d: (d.created_at, d.pk))
    rulings = [i for i, d in enumerate(applied) if d.effect == Effect.RULED]
    if not rulings:
        return _from_standing(applied, needed=needed)
    since = _from_standing(applied[rulings[-1] + 1 :], needed=needed)
    return SignOff(needed, since.approvals, since.rejections, ruling=applied[rulings[-1]])


def _from_standing(decisions: Iterable[Decision], *, needed: int) -> SignOff:
    """Keep each director's last verdict of `decisions` (oldest first) as their standing one."""
    standing: dict[int, Decision] = {}
    for decision in decisions:
        standing.pop(decision.user_id, None)
        standing[decision.user_id] = decision
    return SignOff(
        needed=needed,
        approvals=tuple(d for d in standing.values() if d.verdict == APPROVED),
        rejections=tuple(d for d in standing.values() if d.verdict != APPROVED),
    )


def effect_of(decision: Decision, *, before: SignOff, is_lead: bool) -> str:
    """Decide what a new verdict does, given the sign-off it joins."""
    if before.needed <= 1:
        return Effect.MOVED
    standing = sorted((*before.approvals, *before.rejections), key=lambda d: (d.created_at, d.pk))
    after = _from_standing([*standing, decision], needed=before.needed)
    if is_lead and (before.disputed or after.disputed):
        return Effect.RULED
    if after.disputed:
        return Effect.DISPUTED
    if decision.verdict == APPROVED and after.awaited:
        return Effect.SIGNED
    return Effect.MOVED


def dispute_reason(state: SignOff) -> str:
    """Say who approved and who rejected, for the routed take's reason."""
    approved = ", ".join(_name(d.user) for d in state.approvals)
    rejected = "; ".join(
        f"{_name(d.user)} ({d.get_reason_display()}{': ' + d.reason_text if d.reason_text else ''})"
        for d in state.rejections
    )
    return (
        f"Directors disagree: approved by {approved}; rejected by {rejected}. "
        "A lead director decides."
    )
