"""What creative directors and producers say about takes: decisions and timecoded notes.

A take's status moves only through briefs.pipeline; these rows are the attributed, timestamped
trail behind each move (and behind every attempt that lost a race to another director).
"""

from django.conf import settings
from django.db import models


class Decision(models.Model):
    """One verdict on one take, as seen at one take version."""

    class Verdict(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    class Reason(models.TextChoices):
        OFF_BRAND = "off_brand", "Off-brand"
        CHARACTER_INCONSISTENCY = "character_inconsistency", "Character inconsistency"
        ARTEFACTS = "artefacts", "Artefacts"
        WRONG_FRAMING = "wrong_framing", "Wrong framing"
        CONTINUITY = "continuity", "Continuity"
        RIGHTS_CONCERN = "rights_concern", "Rights concern"
        OTHER = "other", "Other"

    class Effect(models.TextChoices):
        MOVED = "moved", "Moved the take"
        SIGNED = "signed", "Signed off; other directors' approvals awaited"
        DISPUTED = "disputed", "Disagreed with another director; sent to a lead director"
        RULED = "ruled", "A lead director settled a disagreement"

    take = models.ForeignKey("briefs.Take", on_delete=models.CASCADE, related_name="decisions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_decisions"
    )
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    reason = models.CharField(max_length=30, choices=Reason.choices, blank=True)
    reason_text = models.TextField(blank=True)
    # {criterion: ticked} for the brief's approval checklist, as the director saw it.
    checklist = models.JSONField(default=dict, blank=True)
    take_version = models.PositiveIntegerField(help_text="The take version the decider saw")
    # False when another decision reached the take first: kept so no decision is ever lost.
    applied = models.BooleanField(default=True)
    # The dailies session it was made in, if any.
    playlist = models.ForeignKey(
        "review.Playlist",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decisions",
    )
    # What the verdict did under the brief's sign-off rule; only moved and ruled are final.
    effect = models.CharField(max_length=10, choices=Effect.choices, default=Effect.MOVED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        permissions = [
            ("lead_director", "Can settle a disagreement between creative directors"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(verdict="approved", reason="")
                | models.Q(verdict="rejected") & ~models.Q(reason=""),
                name="decision_reason_only_and_always_on_reject",
            ),
        ]
        indexes = [
            models.Index(fields=["take", "created_at"], name="decision_take_trail_idx"),
            models.Index(fields=["created_at"], name="decision_board_changes_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} take {self.take_id} by {self.user}"

    @property
    def is_final(self) -> bool:
        """Tell whether this verdict decided the take (rather than signing off or disputing)."""
        return self.applied and self.effect in (self.Effect.MOVED, self.Effect.RULED)


class Note(models.Model):
    """A comment pinned to a moment (or a range) of a take, optionally to a region of the frame."""

    take = models.ForeignKey("briefs.Take", on_delete=models.CASCADE, related_name="notes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_notes"
    )
    body = models.TextField()
    timecode_start = models.FloatField(help_text="Seconds from the start of the take")
    timecode_end = models.FloatField(null=True, blank=True)
    # {"x", "y", "w", "h"} as fractions of the frame, so it survives any player size.
    rect = models.JSONField(null=True, blank=True)
    # A note about what is heard rather than seen; re-prompting it changes the take's audio line.
    about_sound = models.BooleanField(default=False)
    # The later take made to answer this note (set when a director re-prompts from it).
    answered_by_take = models.ForeignKey(
        "briefs.Take",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="answered_notes",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["timecode_start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(timecode_start__gte=0), name="note_timecode_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(timecode_end__isnull=True)
                | models.Q(timecode_end__gte=models.F("timecode_start")),
                name="note_range_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="note_board_changes_idx"),
        ]

    def __str__(self) -> str:
        return f"Note on take {self.take_id} at {self.timecode_start:.2f}s"


class CutRender(models.Model):
    """One MP4 of a brief's approved takes in shot order, rendered once per set of takes."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RENDERING = "rendering", "Rendering"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    brief = models.ForeignKey("briefs.Brief", on_delete=models.CASCADE, related_name="cut_renders")
    # A digest of the approved takes' ids and versions: a changed take means a different cut.
    key = models.CharField(max_length=64)
    # [[take_id, take_version], ...] in shot order, exactly what the render plays.
    takes = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to="cuts/%Y/%m/", max_length=500, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brief", "key"], name="cut_render_one_per_take_set"),
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="cut_render_progress_is_a_percentage"
            ),
        ]

    def __str__(self) -> str:
        return f"Approved cut of brief {self.brief_id} ({self.get_status_display()})"


class Playlist(models.Model):
    """A dailies session: shots from one or several briefs, reviewed in the order picked."""

    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_playlists"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class PlaylistItem(models.Model):
    """One shot of a playlist, at its place; the shot's current take is what gets reviewed."""

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="items")
    shot = models.ForeignKey("briefs.Shot", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["playlist", "position"], name="playlist_item_one_per_position"
            ),
            models.UniqueConstraint(fields=["playlist", "shot"], name="playlist_item_shot_once"),
        ]

    def __str__(self) -> str:
        return f"{self.playlist} #{self.position}"


class ReviewLink(models.Model):
    """A link a client opens without an account to watch and judge some shots of one brief.

    Only a hash of its secret token is kept: the URL is shown once, when the link is made.
    """

    brief = models.ForeignKey("briefs.Brief", on_delete=models.CASCADE, related_name="review_links")
    # The shots the client sees; none chosen means every shot of the brief.
    shots = models.ManyToManyField("briefs.Shot", blank=True, related_name="+")
    label = models.CharField(max_length=200, help_text="Who the link is for, e.g. the agency")
    token_hash = models.CharField(max_length=64, unique=True)
    # The token's first characters, so producers can tell links apart without the secret.
    token_prefix = models.CharField(max_length=8)
    # A Django password hash, or empty for a link without a password.
    password = models.CharField(max_length=128, blank=True)
    watermark = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_links"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="review_link_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"Review link “{self.label}” for brief {self.brief_id}"

    @property
    def has_password(self) -> bool:
        """Tell whether a client must give a password before seeing anything."""
        return bool(self.password)

    def is_live_at(self, moment) -> bool:
        """Tell whether the link opens at `moment`: not revoked and not expired."""
        return self.revoked_at is None and self.expires_at > moment


class ClientVerdict(models.Model):
    """A client's verdict on a shot's take, given through a review link; never a director's."""

    class Verdict(models.TextChoices):
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    link = models.ForeignKey(ReviewLink, on_delete=models.CASCADE, related_name="verdicts")
    take = models.ForeignKey(
        "briefs.Take", on_delete=models.CASCADE, related_name="client_verdicts"
    )
    viewer_name = models.CharField(max_length=100)
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(verdict="approved")
                | models.Q(verdict="changes_requested") & ~models.Q(comment=""),
                name="client_verdict_changes_say_what",
            ),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="client_verdict_changes_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.viewer_name} (client): {self.get_verdict_display()} take {self.take_id}"


class ClientNote(models.Model):
    """A client's comment at a moment of a take, left through a review link."""

    link = models.ForeignKey(ReviewLink, on_delete=models.CASCADE, related_name="notes")
    take = models.ForeignKey("briefs.Take", on_delete=models.CASCADE, related_name="client_notes")
    viewer_name = models.CharField(max_length=100)
    body = models.TextField()
    timecode_start = models.FloatField(help_text="Seconds from the start of the take")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["timecode_start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(timecode_start__gte=0),
                name="client_note_timecode_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="client_note_changes_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.viewer_name} (client) on take {self.take_id} at {self.timecode_start:.2f}s"


class ReviewLinkEvent(models.Model):
    """One thing that happened through a review link: who, what, from where, when."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        WRONG_PASSWORD = "wrong_password", "Wrong password"
        NOTE = "note", "Left a note"
        VERDICT = "verdict", "Gave a verdict"
        RATE_LIMITED = "rate_limited", "Rate-limited"

    link = models.ForeignKey(ReviewLink, on_delete=models.CASCADE, related_name="events")
    viewer_name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    detail = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["link", "-at"], name="review_link_event_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} via link {self.link_id} by {self.viewer_name or '?'}"
