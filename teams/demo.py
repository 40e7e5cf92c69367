"""Demo teams: the studio's people on Lanternfall, a second client's person on Paper Comets."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from studio.roles import Role
from teams.models import Membership

COMETS_USER = ("comets", "studio-comets", "Chris", "Ng")


def seed(*, stdout) -> None:
    """Put the demo users on their IPs; make the demo catalog admin the studio admin."""
    users = get_user_model().objects
    ip_model = Membership._meta.get_field("ip").related_model
    lanternfall = ip_model.objects.filter(slug="lanternfall").first()
    comets = ip_model.objects.filter(slug="paper-comets").first()
    roles = {
        "producer": Role.PRODUCER,
        "director": Role.CREATIVE_DIRECTOR,
        "catalog": Role.CATALOG_ADMIN,
    }
    for username, role in roles.items():
        user = users.filter(username=username).first()
        for ip in (lanternfall, comets if role == Role.CATALOG_ADMIN else None):
            if user is not None and ip is not None:
                Membership.objects.get_or_create(ip=ip, user=user, role=role.value)
    catalog = users.filter(username="catalog").first()
    if catalog is not None:
        catalog.user_permissions.add(
            Permission.objects.get(content_type__app_label="teams", codename="manage_team")
        )
    username, password, first, last = COMETS_USER
    person, _ = users.get_or_create(username=username)
    person.first_name, person.last_name, person.email = first, last, f"{username}@comets.example"
    person.set_password(password)
    person.save()
    if comets is not None:
        for role in (Role.PRODUCER, Role.CREATIVE_DIRECTOR):
            Membership.objects.get_or_create(ip=comets, user=person, role=role.value)
    stdout.write(
        "Teams: producer, director and catalog on Lanternfall; catalog (the studio admin) on "
        f"both IPs; {username} / {password} produces and directs Paper Comets only."
    )
