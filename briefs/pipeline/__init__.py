"""The pipeline's state machine: the only code that moves briefs, shots and takes between states.

Every step claims a lease on its row with a conditional UPDATE (so two workers cannot both run
it), does its work, checks the result, logs a Handoff and moves the row on with another
conditional UPDATE that still names the lease. A step returns the NextSteps to run: tasks.py
sends them to the broker, run_inline() runs them in this process. The sweeper finds rows whose
lease (or pickup deadline) expired, because a killed worker takes its broker message with it.

Where each part lives: leases.py (leases, the sweeper), retrieving.py, planning.py (and the plan
gate), generating.py, checking.py (one module per step), routing.py (retries and routing to a
human), takes.py, budget.py, settlement.py, verdicts.py (what review calls), control.py (what
producers call), context.py, runner.py and scheduling.py (running and enqueueing steps).
"""

from briefs.pipeline.budget import estimate_take_cost
from briefs.pipeline.checking import check
from briefs.pipeline.context import Providers
from briefs.pipeline.control import cancel_brief, retry_failed
from briefs.pipeline.generating import generate
from briefs.pipeline.handoffs import backoff_seconds
from briefs.pipeline.leases import pickup_deadline, sweep_expired_leases, worker_name
from briefs.pipeline.planning import approve_plan, plan, references_for
from briefs.pipeline.retrieving import retrieve
from briefs.pipeline.runner import pending_steps, run_inline, run_step
from briefs.pipeline.scheduling import TASK_FOR_STEP, NextStep, enqueue, schedule
from briefs.pipeline.states import (
    BRIEF_FINISHED,
    BRIEF_PIPELINE_IDLE,
    BRIEF_STEP_FOR_STATUS,
    SHOT_STATUS_FOR_TAKE,
    TAKE_REVIEWABLE,
    TAKE_STEP_FOR_STATUS,
    BudgetExceededError,
    InvalidTransitionError,
    PipelineError,
    StaleTakeError,
)
from briefs.pipeline.verdicts import (
    add_uploaded_take,
    record_take_verdict,
    route_take_to_lead,
    set_current_take,
    start_new_take,
)

__all__ = [
    "BRIEF_FINISHED",
    "BRIEF_PIPELINE_IDLE",
    "BRIEF_STEP_FOR_STATUS",
    "SHOT_STATUS_FOR_TAKE",
    "TAKE_REVIEWABLE",
    "TAKE_STEP_FOR_STATUS",
    "TASK_FOR_STEP",
    "BudgetExceededError",
    "InvalidTransitionError",
    "NextStep",
    "PipelineError",
    "Providers",
    "StaleTakeError",
    "add_uploaded_take",
    "approve_plan",
    "backoff_seconds",
    "cancel_brief",
    "check",
    "enqueue",
    "estimate_take_cost",
    "generate",
    "pending_steps",
    "pickup_deadline",
    "plan",
    "record_take_verdict",
    "references_for",
    "retrieve",
    "retry_failed",
    "route_take_to_lead",
    "run_inline",
    "run_step",
    "schedule",
    "set_current_take",
    "start_new_take",
    "sweep_expired_leases",
    "worker_name",
]
