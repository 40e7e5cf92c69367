"""Who works on which IP, and in which role; invitations that make someone a member.

A person's role is per IP: a producer on one IP may direct another and see nothing of a third.
The role groups in studio.roles still carry Django permissions; a member is in a role's group
while they hold that role on at least one IP (teams.services keeps that true).
"""

from django.conf import settings
from django.db import models

from studio.roles import Role


class Membership(models.Model):
    """One person holding one role on one IP."""

    ip = models.ForeignKey("retrieval.IP", on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=30, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["ip", "user__username", "role"]
        constraints = [
            models.UniqueConstraint(fields=["ip", "user", "role"], name="membership_unique_role"),
        ]
        indexes = [models.Index(fields=["user", "role"], name="membership_user_role")]
        permissions = [("manage_team", "Can manage IPs' teams and invite people (studio admin)")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} on {self.ip}"


class Invitation(models.Model):
    """An emailed, single-use, expiring invitation to join an IP in a role."""

    email = models.EmailField()
    ip = models.ForeignKey("retrieval.IP", on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=30, choices=Role.choices)
    # sha256 of the token in the link: the database never holds a usable link.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_accepted",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.email} as {self.get_role_display()} on {self.ip}"
