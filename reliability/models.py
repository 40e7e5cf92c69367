"""Earned autonomy and visible reliability: policies, their audit trail, predictions, alerts.

A policy says how much of a step the machine may decide on its own. Every change to a policy is
a PolicyEvent; every machine prediction is a ShadowPrediction, later joined by the human verdict
so agreement can be measured. A ReliabilityAlert is open while a step's pass rate is too low.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from briefs.models import Handoff

__all__ = ["AutonomyPolicy", "PolicyEvent", "ReliabilityAlert", "ShadowPrediction"]

# Below these, a handful of lucky agreements could "earn" auto-approval.
MIN_DECISIONS_FLOOR = 30
BAR_FLOOR = 0.9
MIN_DECISIONS_MESSAGE = f"N must be at least {MIN_DECISIONS_FLOOR} decisions."
BAR_MESSAGE = f"The bar must be between {BAR_FLOOR} and 1."


class AutonomyPolicy(models.Model):
    """How a step (optionally for one IP) is decided: by people, by the machine, or in between."""

    class Step(models.TextChoices):
        # Only take review has a machine prediction today (checks + critic); more steps may join.
        REVIEW = "review", "Take review"

    class Mode(models.TextChoices):
        MANUAL = "manual", "Manual"
        SHADOW = "shadow", "Shadow"
        AUTO = "auto", "Auto with sampling"
        SUSPENDED = "suspended", "Suspended"

    step = models.CharField(max_length=20, choices=Step.choices, default=Step.REVIEW)
    ip = models.ForeignKey(
        "retrieval.IP",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="autonomy_policies",
        help_text="Leave empty for the policy every IP without its own follows",
    )
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.MANUAL)
    threshold = models.FloatField(
        default=0.8, help_text="The machine predicts approval when the checks pass at this score"
    )
    sample_rate = models.FloatField(
        default=0.1, help_text="Share of automatic decisions still sent to a human as an audit"
    )
    min_decisions = models.PositiveIntegerField(
        default=50,
        validators=[MinValueValidator(MIN_DECISIONS_FLOOR, MIN_DECISIONS_MESSAGE)],
        help_text="N: how many recent human-checked predictions agreement is taken over",
    )
    bar = models.FloatField(
        default=0.9,
        validators=[
            MinValueValidator(BAR_FLOOR, BAR_MESSAGE),
            MaxValueValidator(1, BAR_MESSAGE),
        ],
        help_text="The Wilson lower bound of agreement must reach this for auto",
    )
    status_reason = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["step", "ip__name", "pk"]
        verbose_name_plural = "autonomy policies"
        constraints = [
            models.UniqueConstraint(
                fields=["step", "ip"],
                nulls_distinct=False,
                name="autonomy_one_policy_per_step_ip",
                violation_error_message="That step already has a policy for this IP; edit it.",
            ),
            models.CheckConstraint(
                condition=models.Q(threshold__gte=0, threshold__lte=1),
                name="autonomy_threshold_0_to_1",
            ),
            models.CheckConstraint(
                condition=models.Q(sample_rate__gte=0, sample_rate__lte=1),
                name="autonomy_sample_rate_0_to_1",
            ),
            models.CheckConstraint(
                condition=models.Q(bar__gte=BAR_FLOOR, bar__lte=1),
                name="autonomy_bar_at_least_0_9",
                violation_error_message=BAR_MESSAGE,
            ),
            models.CheckConstraint(
                condition=models.Q(min_decisions__gte=MIN_DECISIONS_FLOOR),
                name="autonomy_min_decisions_at_least_30",
                violation_error_message=MIN_DECISIONS_MESSAGE,
            ),
        ]
        permissions = [("manage_autonomy", "Lead director: may set autonomy policies")]

    def __str__(self) -> str:
        scope = self.ip.name if self.ip_id else "every IP"
        return f"{self.get_step_display()} · {scope}"


class PolicyEvent(models.Model):
    """One change to a policy, by an admin or by the machine: the policy's audit trail."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed by an admin"
        PROMOTED = "promoted", "Promoted to auto"
        SUSPENDED = "suspended", "Suspended automatically"

    policy = models.ForeignKey(AutonomyPolicy, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when the machine acted",
    )
    from_mode = models.CharField(max_length=10, choices=AutonomyPolicy.Mode.choices, blank=True)
    to_mode = models.CharField(max_length=10, choices=AutonomyPolicy.Mode.choices, blank=True)
    # {field: [old, new]} for admin edits.
    changes = models.JSONField(default=dict, blank=True)
    # Agreement figures when the machine promoted or suspended the policy.
    evidence = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["policy", "created_at"], name="policyevent_trail_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.policy}: {self.get_kind_display()}"


class ShadowPrediction(models.Model):
    """What the machine would decide (or did decide) about a take, and what a human decided."""

    class Verdict(models.TextChoices):
        APPROVED = "approved", "Approve"
        REJECTED = "rejected", "Reject"

    class Route(models.TextChoices):
        SHADOW = "shadow", "Shadow: a human decides"
        AUDIT = "audit", "Sampled for a human audit"
        AUTO = "auto", "Decided by the machine"
        HUMAN = "human", "Sent to a human (predicted reject)"

    take = models.ForeignKey("briefs.Take", on_delete=models.CASCADE, related_name="predictions")
    policy = models.ForeignKey(AutonomyPolicy, on_delete=models.CASCADE, related_name="predictions")
    route = models.CharField(max_length=10, choices=Route.choices)
    predicted = models.CharField(max_length=10, choices=Verdict.choices)
    confidence = models.FloatField(null=True, blank=True)
    human_verdict = models.CharField(max_length=10, choices=Verdict.choices, blank=True)
    human = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agreed = models.BooleanField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "take"], name="prediction_one_per_take"),
            models.CheckConstraint(
                condition=models.Q(human_verdict="", agreed__isnull=True)
                | ~models.Q(human_verdict="") & models.Q(agreed__isnull=False),
                name="prediction_agreed_iff_decided",
            ),
        ]
        indexes = [
            models.Index(fields=["policy", "decided_at"], name="prediction_agreement_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_predicted_display()} take {self.take_id} ({self.route})"


class ReliabilityAlert(models.Model):
    """A step whose pass rate over a window fell below its threshold; open until it recovers."""

    step = models.CharField(max_length=20, choices=Handoff.Step.choices)
    pass_rate = models.FloatField()
    threshold = models.FloatField()
    attempts = models.PositiveIntegerField()
    window_minutes = models.PositiveIntegerField()
    message = models.TextField()
    opened_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["step"],
                condition=models.Q(resolved_at__isnull=True),
                name="alert_one_open_per_step",
            ),
        ]

    def __str__(self) -> str:
        return self.message
