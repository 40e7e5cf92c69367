from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Studio"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from studio import roles, signals

        connection_created.connect(signals.require_pgvector, dispatch_uid="studio.require_pgvector")
        # Later apps add models; their permissions reach the role groups after every migrate.
        post_migrate.connect(roles.sync_role_groups_after_migrate, dispatch_uid="studio.roles")
        signals.connect_worker_heartbeat()
