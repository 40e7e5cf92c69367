"""The three roles, what each may do, and the navigation that follows from it.

A role is a Django group. Its permissions are listed here by codename and attached after every
migrate, so an app that adds models later only extends ROLE_PERMISSIONS.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.urls import NoReverseMatch, reverse


class Role(models.TextChoices):
    PRODUCER = "Producer", "Producer"
    CREATIVE_DIRECTOR = "Creative Director", "Creative Director"
    CATALOG_ADMIN = "Catalog Admin", "Catalog Admin"


# "app_label.codename"; codenames of models that do not exist yet are attached once they do.
ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.PRODUCER: [
        "retrieval.view_ip",
        "retrieval.view_character",
        "retrieval.view_asset",
        "briefs.add_brief",
        "briefs.view_brief",
        "briefs.change_brief",
        "briefs.view_shot",
        "briefs.view_take",
        "review.view_decision",
        "review.add_note",
        "review.view_note",
    ],
    Role.CREATIVE_DIRECTOR: [
        "retrieval.view_ip",
        "retrieval.view_character",
        "retrieval.view_asset",
        "briefs.view_brief",
        "briefs.view_shot",
        "briefs.change_shot",
        "briefs.view_take",
        "review.add_decision",
        "review.view_decision",
        "review.add_note",
        "review.view_note",
    ],
    Role.CATALOG_ADMIN: [
        f"retrieval.{action}_{model}"
        for model in ("ip", "character", "asset", "rights")
        for action in ("view", "add", "change", "delete")
    ],
}


def sync_role_groups(apps=None) -> None:
    """Create the role groups and attach every listed permission that exists."""
    from django.contrib.auth.management import create_permissions

    apps = apps or _global_apps()
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for app_config in apps.get_app_configs():
        # Historical app configs hide their models module; permissions need it visible.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = models_module
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role.value)
        wanted = models.Q(pk__in=[])
        for name in names:
            app_label, codename = name.split(".")
            wanted |= models.Q(content_type__app_label=app_label, codename=codename)
        group.permissions.add(*permission_model.objects.filter(wanted))


def _global_apps():
    from django.apps import apps

    return apps


def sync_role_groups_after_migrate(sender, **kwargs) -> None:
    """post_migrate receiver: keep the groups' permissions in step with the models."""
    if sender.name == "studio":
        sync_role_groups(kwargs.get("apps"))


def roles_of(user) -> frozenset[Role]:
    """Return the roles a user acts in (every role for superusers), cached on the user."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_studio_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(Role)
        else:
            names = set(user.groups.values_list("name", flat=True))
            cached = frozenset(role for role in Role if role.value in names)
        user._studio_roles = cached
    return cached


def has_role(user, role: Role) -> bool:
    """Tell whether a user acts in a role; superusers act in every role."""
    return role in roles_of(user)


def role_required(*roles: Role) -> Callable:
    """Let signed-in users with one of `roles` through; others get a 403 page."""

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not any(has_role(request.user, role) for role in roles):
                raise PermissionDenied(
                    "This page is for " + " or ".join(role.label for role in roles) + "."
                )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# Navigation: (label, url name, roles that see it). Entries whose URL is not built yet are hidden.
NAVIGATION: list[tuple[str, str, tuple[Role, ...]]] = [
    ("Catalog", "retrieval:catalog", tuple(Role)),
    ("Briefs", "briefs:list", (Role.PRODUCER, Role.CREATIVE_DIRECTOR)),
    ("New brief", "briefs:create", (Role.PRODUCER,)),
    ("Review queue", "review:queue", (Role.CREATIVE_DIRECTOR,)),
    ("Reliability", "reliability:dashboard", (Role.PRODUCER, Role.CREATIVE_DIRECTOR)),
    ("Admin", "admin:index", (Role.CATALOG_ADMIN,)),
]


def navigation(request) -> dict:
    """Context processor: the navigation entries and role names for the signed-in user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": []}
    mine = roles_of(user)
    items = []
    for label, url_name, roles in NAVIGATION:
        if not mine.intersection(roles):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url, "active": False})
    # The longest matching prefix wins: /briefs/new/ is "New brief", not also "Briefs".
    matching = [item for item in items if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    labels = ["Superuser"] if user.is_superuser else [role.label for role in Role if role in mine]
    return {"nav_items": items, "user_roles": labels}
