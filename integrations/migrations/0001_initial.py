"""The integrations app takes over the token and webhook models that studio used to hold."""

import django.contrib.postgres.fields
import django.db.models.deletion
import uuid

import integrations.models
from django.conf import settings
from django.db import migrations, models

MOVED = ['apitoken', 'webhookendpoint', 'webhookdelivery', 'webhookattempt']


def adopt_content_types(apps, schema_editor):
    """Keep permission rows (and any group holding them) by moving their content types."""
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="studio", model__in=MOVED).update(app_label="integrations")


def return_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="integrations", model__in=MOVED).update(app_label="studio")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('studio', '0003_integrations'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables exist already (created by studio); take over their state, then rename.
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='ApiToken',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('name', models.CharField(max_length=100)),
                    ('token_prefix', models.CharField(max_length=16)),
                    ('token_hash', models.CharField(max_length=64, unique=True)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('last_used_at', models.DateTimeField(blank=True, null=True)),
                    ('expires_at', models.DateTimeField(blank=True, null=True)),
                    ('revoked_at', models.DateTimeField(blank=True, null=True)),
                    ('window_started_at', models.DateTimeField(blank=True, editable=False, null=True)),
                    ('window_calls', models.PositiveIntegerField(default=0, editable=False)),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'verbose_name': 'API token',
                    'ordering': ['-created_at', '-pk'],
                },
            ),
            migrations.CreateModel(
                name='WebhookEndpoint',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('url', models.URLField(max_length=500)),
                    ('description', models.CharField(blank=True, max_length=200)),
                    ('secret', models.CharField(default=integrations.models.webhook_secret, help_text='Shared secret for the signature', max_length=100)),
                    ('events', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(choices=[('brief.completed', 'Brief completed'), ('take.ready', 'Take ready for review'), ('take.decided', 'Take decided'), ('step.degraded', 'Pipeline step degraded'), ('step.recovered', 'Pipeline step recovered'), ('autonomy.promoted', 'Autonomy policy promoted'), ('autonomy.suspended', 'Autonomy policy suspended')], max_length=40), size=None)),
                    ('is_active', models.BooleanField(default=True)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'ordering': ['url', 'pk'],
                },
            ),
            migrations.CreateModel(
                name='WebhookDelivery',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('event', models.CharField(choices=[('brief.completed', 'Brief completed'), ('take.ready', 'Take ready for review'), ('take.decided', 'Take decided'), ('step.degraded', 'Pipeline step degraded'), ('step.recovered', 'Pipeline step recovered'), ('autonomy.promoted', 'Autonomy policy promoted'), ('autonomy.suspended', 'Autonomy policy suspended')], max_length=40)),
                    ('event_id', models.UUIDField(default=uuid.uuid4)),
                    ('payload', models.JSONField()),
                    ('status', models.CharField(choices=[('pending', 'Pending'), ('succeeded', 'Succeeded'), ('failed', 'Failed')], default='pending', max_length=10)),
                    ('attempts', models.PositiveSmallIntegerField(default=0)),
                    ('response_code', models.PositiveSmallIntegerField(blank=True, null=True)),
                    ('response_body', models.TextField(blank=True, help_text='The start of the last response')),
                    ('last_error', models.TextField(blank=True)),
                    ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('delivered_at', models.DateTimeField(blank=True, null=True)),
                    ('endpoint', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='integrations.webhookendpoint')),
                ],
                options={
                    'verbose_name_plural': 'webhook deliveries',
                    'ordering': ['-created_at', '-pk'],
                },
            ),
            migrations.CreateModel(
                name='WebhookAttempt',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('number', models.PositiveSmallIntegerField()),
                    ('response_code', models.PositiveSmallIntegerField(blank=True, null=True)),
                    ('error', models.TextField(blank=True)),
                    ('duration_ms', models.PositiveIntegerField(default=0)),
                    ('attempted_at', models.DateTimeField(auto_now_add=True)),
                    ('delivery', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attempt_log', to='integrations.webhookdelivery')),
                ],
                options={
                    'ordering': ['delivery', 'number'],
                    'constraints': [models.UniqueConstraint(fields=('delivery', 'number'), name='webhook_attempt_unique_number')],
                },
            ),
            migrations.AddConstraint(
                model_name='webhookendpoint',
                constraint=models.CheckConstraint(condition=models.Q(('events', []), _negated=True), name='webhook_endpoint_has_events'),
            ),
            migrations.AddIndex(
                model_name='webhookdelivery',
                index=models.Index(fields=['status', 'next_attempt_at'], name='webhook_delivery_due_idx'),
            ),
                migrations.AlterModelTable(name='apitoken', table='studio_apitoken'),
                migrations.AlterModelTable(name='webhookendpoint', table='studio_webhookendpoint'),
                migrations.AlterModelTable(name='webhookdelivery', table='studio_webhookdelivery'),
                migrations.AlterModelTable(name='webhookattempt', table='studio_webhookattempt'),
            ],
        ),
        migrations.AlterModelTable(name='apitoken', table=None),
        migrations.AlterModelTable(name='webhookendpoint', table=None),
        migrations.AlterModelTable(name='webhookdelivery', table=None),
        migrations.AlterModelTable(name='webhookattempt', table=None),
        migrations.RunPython(adopt_content_types, return_content_types),
    ]
