from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from studio import embedded_db


class Command(BaseCommand):
    help = "Show or stop the embedded PostgreSQL server that serves Studio without DATABASE_URL."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["status", "stop"])

    def handle(self, *args, action: str, **options) -> None:
        if settings.DATABASE_URL:
            raise CommandError("DATABASE_URL is set: Studio is not using the embedded server.")
        if action == "status":
            state = "running" if embedded_db.is_running(settings.STATE_DIR) else "stopped"
            folder = embedded_db.pgdata_dir(settings.STATE_DIR)
            self.stdout.write(f"embedded PostgreSQL: {state} (data in {folder})")
        elif embedded_db.stop(settings.STATE_DIR):
            self.stdout.write("embedded PostgreSQL stopped")
        else:
            self.stdout.write("embedded PostgreSQL was not running")
