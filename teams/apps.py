from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = "Teams"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from teams.models import Membership
        from teams.services import sync_role_groups_of_member

        # Admin inlines and bulk tools save memberships without our services: the groups that
        # carry each role's Django permissions follow every save and delete all the same.
        post_save.connect(sync_role_groups_of_member, sender=Membership, dispatch_uid="teams-save")
        post_delete.connect(
            sync_role_groups_of_member, sender=Membership, dispatch_uid="teams-delete"
        )
