"""Where rows wait and what can go wrong: status maps and the pipeline's errors."""

from __future__ import annotations

from briefs.models import Brief, Handoff, Shot, Take

Step = Handoff.Step


Outcome = Handoff.Outcome


BRIEF_STEP_FOR_STATUS = {
    Brief.Status.QUEUED: "retrieve",
    Brief.Status.RETRIEVING: "retrieve",
    Brief.Status.PLANNING: "plan",
}


TAKE_STEP_FOR_STATUS = {
    Take.Status.QUEUED: "generate",
    Take.Status.GENERATING: "generate",
    Take.Status.CHECKING: "check",
}


BRIEF_FINISHED = (Brief.Status.COMPLETED, Brief.Status.CANCELLED, Brief.Status.FAILED)


BRIEF_PIPELINE_IDLE = (
    Brief.Status.AWAITING_PLAN_APPROVAL,
    Brief.Status.IN_REVIEW,
    Brief.Status.NEEDS_ATTENTION,
    *BRIEF_FINISHED,
)


TAKE_REVIEWABLE = (
    Take.Status.READY,
    Take.Status.ROUTED,
    Take.Status.APPROVED,
    Take.Status.REJECTED,
)


SHOT_STATUS_FOR_TAKE = {
    Take.Status.QUEUED: Shot.Status.GENERATING,
    Take.Status.GENERATING: Shot.Status.GENERATING,
    Take.Status.CHECKING: Shot.Status.CHECKING,
    Take.Status.READY: Shot.Status.READY,
    Take.Status.ROUTED: Shot.Status.NEEDS_HUMAN,
    Take.Status.APPROVED: Shot.Status.APPROVED,
    Take.Status.REJECTED: Shot.Status.REJECTED,
    Take.Status.FAILED: Shot.Status.FAILED,
    Take.Status.CANCELLED: Shot.Status.CANCELLED,
}


SHOT_UNSETTLED = (Shot.Status.PLANNED, Shot.Status.GENERATING, Shot.Status.CHECKING)


class PipelineError(Exception):
    """A pipeline operation that cannot go ahead; the message is for the user."""


class InvalidTransitionError(PipelineError):
    """The row is not in a state that allows this operation."""


class BudgetExceededError(PipelineError):
    """Starting another generation would take the brief over its budget cap."""


class StaleTakeError(PipelineError):
    """Someone changed the take since the caller saw it; `take` is how it is now."""

    def __init__(self, take: Take) -> None:
        super().__init__(
            f"Take {take.number} changed since you opened it: it is now "
            f"{take.get_status_display().lower()} (version {take.version})."
        )
        self.take = take


class LeaseLost(Exception):
    """Another worker took over this step (our lease expired); stop without writing."""
