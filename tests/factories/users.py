"""factory-boy factories shared by the suite."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from studio.roles import Role

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
    return user
