"""Moving models between apps keeps every table, row and permission (issue: one concern per app)."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from integrations import webhooks
from integrations.models import WebhookAttempt, WebhookDelivery
from integrations.tokens import token_create
from reliability import autonomy
from reliability.models import PolicyEvent, ReliabilityAlert
from tests.factories.reliability import PolicyFactory, ready_shot_take
from tests.factories.users import director

# Before the move: the autonomy models in review, the integrations' models in studio.
BEFORE_THE_MOVE = [
    ("review", "0002_autonomy"),
    ("studio", "0003_integrations"),
    ("reliability", None),
    ("integrations", None),
]
MOVED = {
    "reliability": ["autonomypolicy", "policyevent", "shadowprediction", "reliabilityalert"],
    "integrations": ["apitoken", "webhookendpoint", "webhookdelivery", "webhookattempt"],
}
OLD_APP = {"reliability": "review", "integrations": "studio"}


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for app in ("studio", "retrieval", "briefs", "review", "reliability", "integrations")
        for model in apps.get_app_config(app).get_models()
    }


def _table_count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # names from MOVED, not from input
        return cursor.fetchone()[0]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    ContentType.objects.clear_cache()


@pytest.mark.django_db(transaction=True)
def test_moving_models_to_their_apps_keeps_every_row_and_permission():
    # Given the demo data, plus a row in every moved table.
    call_command("seed_demo")
    take = ready_shot_take()
    policy = PolicyFactory(ip=take.shot.brief.ip, mode="shadow")
    PolicyEvent.objects.create(policy=policy, kind="created", to_mode="shadow")
    autonomy.on_take_ready(take)
    ReliabilityAlert.objects.create(
        step="check", pass_rate=0.5, threshold=0.8, attempts=12, window_minutes=60, message="low"
    )
    token_create(user=director(), name="CI")
    webhooks.endpoint_register(url="https://a.example/hook", events=["take.ready"])
    webhooks.emit("take.ready", {"take_id": take.pk})
    WebhookAttempt.objects.create(delivery=WebhookDelivery.objects.get(), number=1, error="down")
    before = _row_counts()
    permission_ids = set(
        Permission.objects.filter(content_type__app_label__in=MOVED).values_list("pk", flat=True)
    )
    moved_labels = [apps.get_model(app, name)._meta.label for app in MOVED for name in MOVED[app]]
    assert {label: before[label] for label in moved_labels if not before[label]} == {}
    head = MigrationExecutor(connection).loader.graph.leaf_nodes()

    # When the database goes back to the layout before the move, then forward again.
    _migrate(BEFORE_THE_MOVE)
    old_tables = {
        f"{OLD_APP[app]}_{name}": before[apps.get_model(app, name)._meta.label]
        for app, names in MOVED.items()
        for name in names
    }
    assert {table: _table_count(table) for table in old_tables} == old_tables
    _migrate(head)

    # Then every row is still there, in the new apps' tables, with the same permissions.
    assert _row_counts() == before
    assert {f"{app}_{name}" for app, names in MOVED.items() for name in names} <= set(
        connection.introspection.table_names()
    )
    assert (
        set(
            Permission.objects.filter(content_type__app_label__in=MOVED).values_list(
                "pk", flat=True
            )
        )
        == permission_ids
    )
