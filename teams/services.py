"""Writes for teams: memberships, the role groups that follow them, and invitations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from studio.roles import Role
from studio.secrets_store import hash_secret, new_secret
from teams.models import Invitation, Membership
from teams.selectors import is_studio_admin


class TeamError(Exception):
    """A team change that cannot go ahead; the message is for the person who tried."""


def _require_studio_admin(user: Any) -> None:
    if not is_studio_admin(user):
        raise PermissionDenied("Only studio admins manage teams.")


def sync_role_groups(user: Any) -> None:
    """Put the user in exactly the role groups of the roles they hold on some IP."""
    held = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    groups = {group.name: group for group in Group.objects.filter(name__in=Role.values)}
    user.groups.remove(*(g for name, g in groups.items() if name not in held))
    user.groups.add(*(g for name, g in groups.items() if name in held))
    # Catalog admins work in the Django admin, which needs is_staff. It is only ever granted here:
    # staff status given for other reasons (operations, /healthz details) is not ours to take.
    if not user.is_staff and (Role.CATALOG_ADMIN.value in held or is_studio_admin(user)):
        get_user_model().objects.filter(pk=user.pk).update(is_staff=True)
        user.is_staff = True
    # Django's ModelBackend caches permissions on the user object; roles changed, so drop them.
    for cache in (
        "_studio_roles",
        "_studio_ip_roles",
        "_perm_cache",
        "_user_perm_cache",
        "_group_perm_cache",
    ):
        user.__dict__.pop(cache, None)


def sync_role_groups_of_member(sender, instance: Membership, **kwargs) -> None:
    """post_save/post_delete receiver: the member's groups follow their memberships."""
    if kwargs.get("raw"):
        return
    origin = kwargs.get("origin")
    model = origin.model if hasattr(origin, "model") else type(origin)
    if model is get_user_model():
        return  # the person is being deleted: their groups go with them
    sync_role_groups(instance.user)


def member_add(*, ip: Any, user: Any, role: Role | str, by: Any) -> Membership:
    """Give a person a role on an IP (idempotent)."""
    _require_studio_admin(by)
    membership, _ = Membership.objects.get_or_create(
        ip=ip, user=user, role=Role(role).value, defaults={"added_by": by}
    )
    return membership


def creator_joins(*, ip: Any, user: Any) -> None:
    """Whoever creates an IP is its first catalog admin (superusers need no membership)."""
    if not user.is_superuser:
        Membership.objects.get_or_create(
            ip=ip, user=user, role=Role.CATALOG_ADMIN.value, defaults={"added_by": user}
        )


def member_remove(*, membership: Membership, by: Any) -> None:
    """Take a role on an IP away from a person."""
    _require_studio_admin(by)
    membership.delete()


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    link: str


@transaction.atomic
def invite(
    *,
    ip: Any,
    email: str,
    role: Role | str,
    by: Any,
    link_for: Callable[[str], str],
) -> SentInvitation:
    """Invite someone by email to join an IP in a role; email them a single-use link.

    `link_for` turns the token into the absolute URL of the acceptance page.
    """
    _require_studio_admin(by)
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise TeamError("Enter a valid email address.") from exc
    role = Role(role)
    existing = get_user_model().objects.filter(email__iexact=email).first()
    if existing and Membership.objects.filter(ip=ip, user=existing, role=role.value).exists():
        raise TeamError(f"{email} is already a {role.label} on {ip}.")
    token = new_secret()
    invitation = Invitation.objects.create(
        email=email,
        ip=ip,
        role=role.value,
        token_hash=hash_secret(token),
        invited_by=by,
        expires_at=timezone.now() + timedelta(hours=settings.INVITATION_MAX_AGE_HOURS),
    )
    link = link_for(token)
    inviter = by.get_full_name() or by.username
    transaction.on_commit(
        lambda: send_mail(
            subject=f"{inviter} invited you to {ip} on Studio",
            message=(
                f"{inviter} invited you to work on {ip} as a {role.label}.\n\n"
                f"Set your password and join here (the link works once, until "
                f"{invitation.expires_at:%d %b %Y %H:%M} UTC):\n{link}\n\n"
                "If you did not expect this, ignore this email."
            ),
            from_email=None,
            recipient_list=[email],
        )
    )
    return SentInvitation(invitation=invitation, link=link)


def invitation_revoke(*, invitation: Invitation, by: Any) -> Invitation:
    """Withdraw an invitation that has not been accepted."""
    _require_studio_admin(by)
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


def invitation_problem(invitation: Invitation | None) -> str:
    """Say why an invitation cannot be used, or '' when it can."""
    if invitation is None:
        return "This invitation link is not valid. Ask the person who invited you for a new one."
    if invitation.accepted_at is not None:
        return "This invitation has already been used. Sign in with the account it created."
    if invitation.revoked_at is not None:
        return "This invitation was withdrawn. Ask the person who invited you for a new one."
    if invitation.expires_at <= timezone.now():
        return (
            f"This invitation expired on {invitation.expires_at:%d %b %Y at %H:%M} UTC. "
            "Ask the person who invited you for a new one."
        )
    return ""


def invitation_for_token(token: str) -> Invitation | None:
    """Return the invitation a link's token names, whatever its state."""
    return Invitation.objects.select_related("ip").filter(token_hash=hash_secret(token)).first()


@transaction.atomic
def invitation_accept(*, token: str, user: Any) -> Membership:
    """Use an invitation once: make `user` a member in the invited role.

    Raises TeamError when the link is invalid, used, withdrawn or expired; two tabs racing on
    one link give one membership and one clear error.
    """
    invitation = (
        Invitation.objects.select_for_update().filter(token_hash=hash_secret(token)).first()
    )
    problem = invitation_problem(invitation)
    if problem:
        raise TeamError(problem)
    if user.email.lower() != invitation.email:
        raise TeamError(f"This invitation is for {invitation.email}; you are signed in as {user}.")
    membership, _ = Membership.objects.get_or_create(
        ip_id=invitation.ip_id,
        user=user,
        role=invitation.role,
        defaults={"added_by": invitation.invited_by},
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


@transaction.atomic
def account_create_from_invitation(
    *, token: str, username: str, password: str, first_name: str = "", last_name: str = ""
) -> Membership:
    """Create the invitee's account with the password they chose, then accept the invitation."""
    invitation = invitation_for_token(token)
    problem = invitation_problem(invitation)
    if problem:
        raise TeamError(problem)
    users = get_user_model()
    if users.objects.filter(username__iexact=username).exists():
        raise TeamError(f"The username {username!r} is taken; choose another.")
    if users.objects.filter(email__iexact=invitation.email).exists():
        raise TeamError("An account with this email exists: sign in to accept the invitation.")
    user = users.objects.create_user(
        username=username,
        email=invitation.email,
        password=password,
        first_name=first_name,
        last_name=last_name,
    )
    return invitation_accept(token=token, user=user)
