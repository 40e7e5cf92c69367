"""Django admin for studio admins: memberships and invitations across IPs."""

from django.contrib import admin

from teams.models import Invitation, Membership
from teams.selectors import is_studio_admin


class StudioAdminOnly(admin.ModelAdmin):
    def has_module_permission(self, request) -> bool:
        return is_studio_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_studio_admin(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_studio_admin(request.user)

    def has_add_permission(self, request) -> bool:
        return is_studio_admin(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_studio_admin(request.user)


@admin.register(Membership)
class MembershipAdmin(StudioAdminOnly):
    list_display = ["user", "ip", "role", "added_by", "created_at"]
    list_filter = ["ip", "role"]
    search_fields = ["user__username", "user__email", "ip__name"]
    readonly_fields = ["added_by", "created_at"]

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Invitation)
class InvitationAdmin(StudioAdminOnly):
    list_display = ["email", "ip", "role", "invited_by", "created_at", "expires_at", "accepted_at"]
    list_filter = ["ip", "role"]
    search_fields = ["email"]
    readonly_fields = [f.name for f in Invitation._meta.fields]

    def has_add_permission(self, request) -> bool:
        # Invitations go out from the IP's team page, which emails the link.
        return False
