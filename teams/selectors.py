"""The one gate: which IPs a person may see, and in which role.

Every read of IP-owned data (catalog, briefs, boards, dashboards, exports, the API, MCP and
webhooks) filters through `ip_ids_for`, and every write checks `has_ip_role` on the object's IP.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from studio.roles import Role
from teams.models import Invitation, Membership

MANAGE_TEAM_PERMISSION = "teams.manage_team"


def is_studio_admin(user: Any) -> bool:
    """Studio-wide admins create IPs and manage every IP's team."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_perm(MANAGE_TEAM_PERMISSION))
    )


def _all_ip_ids() -> QuerySet:
    # teams sits below retrieval: reach the IP model through the foreign key, not an import.
    return Membership._meta.get_field("ip").related_model.objects.values("pk")


def _sees_every_ip(user: Any, roles: tuple[Role, ...]) -> bool:
    if user.is_superuser:
        return True
    # Studio admins run every IP's catalog and team; briefs still need a membership.
    return (not roles or Role.CATALOG_ADMIN in roles) and is_studio_admin(user)


def ip_ids_for(user: Any, *roles: Role) -> QuerySet:
    """Return (as a subquery) the ids of IPs the user holds any of `roles` on; any role if none."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Membership.objects.none().values("ip_id")
    if _sees_every_ip(user, roles):
        return _all_ip_ids()
    memberships = Membership.objects.filter(user=user)
    if roles:
        memberships = memberships.filter(role__in=[role.value for role in roles])
    return memberships.values("ip_id")


def ip_roles_of(user: Any) -> dict[int, frozenset[Role]]:
    """Return {ip id: roles held there}, read once per user object."""
    cached = getattr(user, "_studio_ip_roles", None)
    if cached is None:
        cached = {}
        if user.is_authenticated and user.is_active:
            for ip_id, role in Membership.objects.filter(user=user).values_list("ip_id", "role"):
                cached[ip_id] = cached.get(ip_id, frozenset()) | {Role(role)}
        user._studio_ip_roles = cached
    return cached


def has_ip_role(user: Any, ip_id: int, *roles: Role) -> bool:
    """Tell whether the user holds one of `roles` on the IP (superusers hold every role)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if _sees_every_ip(user, roles):
        return True
    return bool(ip_roles_of(user).get(ip_id, frozenset()).intersection(roles))


def require_ip_role(user: Any, ip_id: int, *roles: Role) -> None:
    """Raise PermissionDenied unless the user holds one of `roles` on the IP."""
    if not has_ip_role(user, ip_id, *roles):
        raise PermissionDenied(
            "On this IP, only " + " or ".join(role.label for role in roles) + "s may do this."
        )


def member_ids(ip_id: int, *roles: Role) -> QuerySet:
    """Return (as a subquery) the ids of people holding one of `roles` on the IP."""
    return Membership.objects.filter(ip_id=ip_id, role__in=[role.value for role in roles]).values(
        "user_id"
    )


def ip_members(*, ip_id: int) -> QuerySet[Membership]:
    """Return an IP's memberships with their people, for the team page."""
    return Membership.objects.filter(ip_id=ip_id).select_related("user", "added_by")


def pending_invitations(*, ip_id: int) -> QuerySet[Invitation]:
    """Return the IP's invitations not yet accepted or revoked (expired ones included)."""
    return Invitation.objects.filter(
        ip_id=ip_id, accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("invited_by")
