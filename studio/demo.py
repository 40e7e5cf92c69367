"""Demo accounts; later apps add their demo data through DEMO_SEEDERS."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from studio.roles import Role


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: Role
    first_name: str
    last_name: str


DEMO_USERS = [
    DemoUser("producer", "studio-producer", Role.PRODUCER, "Priya", "Patel"),
    DemoUser("director", "studio-director", Role.CREATIVE_DIRECTOR, "Dana", "Okafor"),
    DemoUser("catalog", "studio-catalog", Role.CATALOG_ADMIN, "Cole", "Martin"),
]


def seed_demo_users() -> list[DemoUser]:
    """Create (or reset) one user per role with a known password."""
    user_model = get_user_model()
    for demo in DEMO_USERS:
        user, _ = user_model.objects.get_or_create(username=demo.username)
        user.first_name, user.last_name = demo.first_name, demo.last_name
        user.email = f"{demo.username}@studio.example"
        # Catalog admins keep the catalog through Django's admin, which needs staff status.
        user.is_staff = demo.role == Role.CATALOG_ADMIN
        user.set_password(demo.password)
        user.save()
        user.groups.set([Group.objects.get(name=demo.role.value)])
    return DEMO_USERS
