from importlib import import_module
from importlib.util import find_spec

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from studio.demo import seed_demo_users

DEMO_APPS = ["retrieval", "teams", "briefs", "review", "reliability"]


class Command(BaseCommand):
    help = "Create idempotent demo data: users per role, then each app's demo (development only)."

    def handle(self, *args, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run with STUDIO_ENV=production.")
        with transaction.atomic():
            users = seed_demo_users()
        # Each app may contribute demo data in <app>/demo.py: seed(*, stdout) -> None, in order.
        for app_label in DEMO_APPS:
            if find_spec(f"{app_label}.demo") is not None:
                import_module(f"{app_label}.demo").seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in at /accounts/login/ as:"))
        for demo in users:
            self.stdout.write(
                f"  {demo.role.label:<18} {demo.username:<10} password: {demo.password}"
            )
