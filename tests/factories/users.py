"""factory-boy factories shared by the suite.

The default world is the one a studio migrating from before teams has: every person with a role
holds it on every IP (a user made with `role=` joins each existing IP, and a new IP takes in
everyone who has a role). Tests about teams opt out with `ips=[...]` (or `ips=[]`).
"""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from retrieval.models import IP
from studio.roles import Role
from teams.models import Membership

TEST_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@studio.example")
    first_name = factory.Faker("first_name")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def role(self, create: bool, extracted: Role | None, **kwargs) -> None:
        if extracted is not None:
            self.groups.add(Group.objects.get(name=extracted.value))
            self.is_staff = extracted == Role.CATALOG_ADMIN
        if create:
            self.save()

    @factory.post_generation
    def ips(self, create: bool, extracted, **kwargs) -> None:
        """Join IPs in the user's role: the given ones, or (by default) every existing one."""
        roles = [Role(name) for name in self.groups.values_list("name", flat=True)]
        if not create or not roles:
            return
        chosen = IP.objects.all() if extracted is None else extracted
        for ip in chosen:
            for role in roles:
                Membership.objects.get_or_create(ip=ip, user=self, role=role.value)


def join(user, ip, role: Role) -> None:
    """Give `user` `role` on `ip` (the role's group follows, as in the app)."""
    Membership.objects.get_or_create(ip=ip, user=user, role=role.value)


def everyone_with_a_role_joins(ip) -> None:
    """Make every user with a role (groups) a member of `ip` in each of their roles."""
    User = get_user_model()
    for user in User.objects.filter(groups__name__in=Role.values, is_superuser=False).distinct():
        for name in user.groups.filter(name__in=Role.values).values_list("name", flat=True):
            Membership.objects.get_or_create(ip=ip, user=user, role=name)


def producer(**kwargs):
    return UserFactory(role=Role.PRODUCER, **kwargs)


def director(**kwargs):
    return UserFactory(role=Role.CREATIVE_DIRECTOR, **kwargs)


def catalog_admin(**kwargs):
    return UserFactory(role=Role.CATALOG_ADMIN, **kwargs)


def lead_director(**kwargs):
    """A creative director holding the lead permission: may set autonomy policies."""
    user = director(**kwargs)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="reliability", codename="manage_autonomy")
    )
    return user


def superuser(**kwargs):
    return UserFactory(is_superuser=True, is_staff=True, **kwargs)


def catalog_director(**kwargs):
    """A creative director who is also a catalog admin: may promote takes from the board."""
    user = director(**kwargs)
    user.groups.add(Group.objects.get(name=Role.CATALOG_ADMIN.value))
    for ip in IP.objects.all():
        join(user, ip, Role.CATALOG_ADMIN)
    return user
