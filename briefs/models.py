"""Briefs, their shots, every take of every shot, and the log of every handoff between steps.

Status fields change only in briefs/pipeline.py, through conditional updates.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse


class Brief(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RETRIEVING = "retrieving", "Retrieving references"
        PLANNING = "planning", "Planning shots"
        AWAITING_PLAN_APPROVAL = "awaiting_plan", "Waiting for plan approval"
        GENERATING = "generating", "Generating"
        IN_REVIEW = "in_review", "In review"
        NEEDS_ATTENTION = "needs_attention", "Needs a human"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    class AspectRatio(models.TextChoices):
        LANDSCAPE = "16:9", "16:9 landscape"
        PORTRAIT = "9:16", "9:16 portrait"

    class ShotSeconds(models.IntegerChoices):
        FOUR = 4, "4 seconds"
        SIX = 6, "6 seconds"
        EIGHT = 8, "8 seconds"

    class Sound(models.TextChoices):
        DIALOGUE = "dialogue", "Dialogue (with ambience)"
        AMBIENCE = "ambience", "Ambience only"
        NONE = "none", "No sound"

    ip = models.ForeignKey("retrieval.IP", on_delete=models.PROTECT, related_name="briefs")
    producer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="briefs"
    )
    title = models.CharField(max_length=200)
    beat = models.TextField(help_text="The script beat or visual prompt")
    tone = models.CharField(max_length=100, blank=True)
    shot_count = models.PositiveSmallIntegerField()
    aspect_ratio = models.CharField(max_length=5, choices=AspectRatio.choices)
    seconds_per_shot = models.PositiveSmallIntegerField(choices=ShotSeconds.choices)
    territory = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 release territory")
    release_date = models.DateField()
    negative_prompt = models.TextField(blank=True)
    budget_cap = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    requires_plan_approval = models.BooleanField(default=False)
    # Veo 3 renders sound with the picture; a studio reviews with it, so a brief asks for it
    # unless the producer says otherwise (existing briefs were made silent: see the migration).
    sound = models.CharField(max_length=10, choices=Sound.choices, default=Sound.AMBIENCE)
    pinned_references = models.ManyToManyField(
        "retrieval.Asset", blank=True, related_name="pinned_in_briefs"
    )
    # What the retrieve step found (rights-cleared at the brief's territory and date).
    references = models.ManyToManyField(
        "retrieval.Asset", blank=True, related_name="retrieved_in_briefs"
    )
    checklist = models.JSONField(
        default=list, blank=True, help_text="Approval criteria ticked per take"
    )
    required_approvals = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Approvals from different creative directors per shot; empty: the IP's",
    )

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    status_reason = models.TextField(blank=True)
    spent = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0"))
    # Estimated cost of generations in flight, held against the budget cap until they settle.
    reserved = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0"))
    # A step working on the brief holds a lease; the sweeper re-enqueues expired ones.
    lease_owner = models.CharField(max_length=255, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(shot_count__gte=1, shot_count__lte=24),
                name="brief_shot_count_1_to_24",
            ),
            models.CheckConstraint(
                condition=models.Q(seconds_per_shot__in=[4, 6, 8]),
                name="brief_seconds_per_shot_veo",
            ),
            models.CheckConstraint(
                condition=models.Q(budget_cap__isnull=True) | models.Q(budget_cap__gt=0),
                name="brief_budget_cap_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(required_approvals__isnull=True)
                | models.Q(required_approvals__gte=1, required_approvals__lte=5),
                name="brief_required_approvals_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(sound__in=["dialogue", "ambience", "none"]),
                name="brief_sound_known",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "lease_expires_at"], name="brief_status_lease_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("briefs:detail", args=[self.pk])

    @property
    def wants_sound(self) -> bool:
        """Tell whether the brief's takes must have sound (dialogue or ambience)."""
        return self.sound != self.Sound.NONE

    @property
    def approvals_needed(self) -> int:
        """Return how many different directors must approve a shot: the brief's, else its IP's."""
        return self.required_approvals or self.ip.required_approvals


class Shot(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        GENERATING = "generating", "Generating"
        CHECKING = "checking", "Checking"
        READY = "ready", "Ready for review"
        NEEDS_HUMAN = "needs_human", "Needs a human"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="shots")
    order = models.PositiveSmallIntegerField()
    prompt = models.TextField()
    negative_prompt = models.TextField(blank=True)
    camera = models.CharField(max_length=200, blank=True)
    duration_s = models.PositiveSmallIntegerField()
    # What is heard: the dialogue line or the ambience the planner wrote (empty: no sound asked).
    audio = models.TextField(blank=True)
    references = models.ManyToManyField("retrieval.Asset", blank=True, related_name="shots")
    # Who the plan says appears in the shot; grounding checks each has a cleared reference.
    characters = models.ManyToManyField("retrieval.Character", blank=True, related_name="shots")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    status_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["brief", "order"]
        constraints = [
            models.UniqueConstraint(fields=["brief", "order"], name="shot_unique_order_per_brief")
        ]

    def __str__(self) -> str:
        return f"{self.brief} · shot {self.order}"


def take_media_path(take: "Take", filename: str) -> str:
    return f"takes/{take.shot.brief_id}/{take.shot_id}/{take.number}/{filename}"


class Take(models.Model):
    """One generation attempt for a shot. Takes are never overwritten; a re-prompt adds one."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        GENERATING = "generating", "Generating"
        CHECKING = "checking", "Checking"
        READY = "ready", "Ready for review"
        ROUTED = "routed", "Routed to a human"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    shot = models.ForeignKey(Shot, on_delete=models.CASCADE, related_name="takes")
    number = models.PositiveSmallIntegerField()
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    prompt = models.TextField()
    negative_prompt = models.TextField(blank=True)
    # The audio line this take was asked for; a sound note re-prompts it, like the prompt.
    audio = models.TextField(blank=True)
    config = models.JSONField(default=dict, help_text="Exactly what was sent to the generator")
    references = models.ManyToManyField("retrieval.Asset", blank=True, related_name="takes")
    provider = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=100, blank=True)
    seed = models.PositiveIntegerField(default=0)
    # One key per take attempt: a rerun after a crash finds the same operation, never pays twice.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    operation_id = models.CharField(max_length=500, blank=True)
    # Set (and committed) before a paid start call, cleared once its operation id is saved: a
    # worker that finds it set after a crash cannot know whether a job is running and billed.
    start_pending = models.BooleanField(default=False)
    # Paid generation jobs the provider accepted for this take (one, unless something went wrong).
    billed_generations = models.PositiveSmallIntegerField(default=0)

    media = models.FileField(upload_to=take_media_path, max_length=500, blank=True)
    poster = models.ImageField(upload_to=take_media_path, max_length=500, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    byte_size = models.PositiveBigIntegerField(null=True, blank=True)
    # Whether the clip carries an audio track, measured by the checks (None: not checked yet).
    has_audio = models.BooleanField(null=True, blank=True)

    checks = models.JSONField(default=list, blank=True)
    checks_passed = models.BooleanField(null=True)
    confidence = models.FloatField(null=True, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0"))
    # This take's share of Brief.reserved; zero once its cost is settled or released.
    reserved_cost = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0"))

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    status_reason = models.TextField(blank=True)
    is_current = models.BooleanField(default=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_owner = models.CharField(max_length=255, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Optimistic concurrency for decisions: a decision names the version it saw.
    version = models.PositiveIntegerField(default=1)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shot", "number"]
        constraints = [
            models.UniqueConstraint(fields=["shot", "number"], name="take_unique_number_per_shot"),
            models.UniqueConstraint(
                fields=["shot"],
                condition=models.Q(is_current=True),
                name="take_one_current_per_shot",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "lease_expires_at"], name="take_status_lease_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.shot} · take {self.number}"


class Handoff(models.Model):
    """One step attempt: the log of every transition and the source of every metric."""

    class Step(models.TextChoices):
        RETRIEVE = "retrieve", "Retrieve"
        PLAN = "plan", "Plan"
        GROUND = "ground", "Grounding"
        PLAN_GATE = "plan_gate", "Plan approval"
        GENERATE = "generate", "Generate"
        CHECK = "check", "Check"
        REVIEW = "review", "Review"

    class Outcome(models.TextChoices):
        PASSED = "passed", "Passed"
        RETRIED = "retried", "Retried"
        ROUTED = "routed", "Routed to a human"
        FAILED = "failed", "Failed"
        AUTO_APPROVED = "auto_approved", "Auto-approved"

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="handoffs")
    shot = models.ForeignKey(
        Shot, null=True, blank=True, on_delete=models.CASCADE, related_name="handoffs"
    )
    take = models.ForeignKey(
        Take, null=True, blank=True, on_delete=models.CASCADE, related_name="handoffs"
    )
    step = models.CharField(max_length=20, choices=Step.choices)
    attempt = models.PositiveSmallIntegerField(default=1)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    confidence = models.FloatField(null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0"))
    model = models.CharField(max_length=100, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    # Short summaries of what went in and came out, for the trace view.
    detail = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    class Meta:
        ordering = ["started_at", "pk"]
        indexes = [
            models.Index(fields=["brief", "started_at"], name="handoff_brief_trace_idx"),
            models.Index(fields=["step", "finished_at"], name="handoff_step_metrics_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.step} #{self.attempt}: {self.outcome}"


def look_keyframe_path(look: "TakeLook", filename: str) -> str:
    take = look.take
    return f"takes/{take.shot.brief_id}/{take.shot_id}/{take.number}/continuity/{filename}"


class TakeLook(models.Model):
    """What the continuity check measured of a take once: keyframes, palette and light.

    Keyframes are files (small JPEGs in the media storage), so the continuity sheet never
    decodes a clip on a page view.
    """

    take = models.OneToOneField(Take, on_delete=models.CASCADE, related_name="look")
    # [{"time_s": 0.25, "name": "<storage name>"}, ...] in clip order.
    keyframes = models.JSONField(default=list)
    # [["#rrggbb", share], ...], most common first.
    palette = models.JSONField(default=list)
    mean_colour = models.CharField(max_length=7)
    luminance = models.FloatField(help_text="CIE L* of the mean colour, 0..100")
    # Mean colour of the brightest fifth of the pixels: where the light falls.
    light_colour = models.CharField(max_length=7)
    colour_temperature_k = models.FloatField(help_text="Of the light colour (McCamy)")
    # {"<character id>": stray}: how far the take's colours stray from that character's
    # references (0 = only their colours).
    reference_stray = models.JSONField(default=dict, blank=True)
    measure_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"look of {self.take}"


class ContinuityPair(models.Model):
    """How far two shots' takes of one brief drift apart: look, palette and light."""

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="continuity_pairs")
    first = models.ForeignKey(Take, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Take, on_delete=models.CASCADE, related_name="+")
    # Characters both shots show; the look part applies only when there is one.
    characters = models.ManyToManyField("retrieval.Character", blank=True, related_name="+")
    look = models.FloatField(null=True, blank=True)
    palette = models.FloatField()
    light = models.FloatField()
    # The worst part as a share of its limit, at the limits of the day it was measured.
    drift = models.FloatField()
    drifted = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brief", "first", "second"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="continuity_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")),
                name="continuity_pair_ordered",
            ),
        ]
        indexes = [models.Index(fields=["brief", "drifted"], name="continuity_brief_drift_idx")]

    def __str__(self) -> str:
        return f"{self.first} ~ {self.second}: {self.drift:.2f}"
