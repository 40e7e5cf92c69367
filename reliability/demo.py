"""Demo lead: the demo creative director is the lead, who may set autonomy policies."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from reliability.autonomy import MANAGE_PERMISSION


def seed(*, stdout) -> None:
    """Grant the lead permission to the demo director, once."""
    director = get_user_model().objects.filter(username="director").first()
    if director is None:
        stdout.write("Reliability: skipped (no demo director).")
        return
    app_label, codename = MANAGE_PERMISSION.split(".")
    director.user_permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    stdout.write("Reliability: the demo director is the lead (may set autonomy policies).")
