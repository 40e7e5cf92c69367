"""The reliability app takes over the autonomy and alert models that review used to hold."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ['autonomypolicy', 'policyevent', 'shadowprediction', 'reliabilityalert']


def adopt_content_types(apps, schema_editor):
    """Keep permission rows (and any group holding them) by moving their content types."""
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="review", model__in=MOVED).update(app_label="reliability")


def return_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="reliability", model__in=MOVED).update(app_label="review")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('briefs', '0002_references_and_reservations'),
        ('retrieval', '0003_embedding_vector_storage_plain'),
        ('review', '0002_autonomy'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables exist already (created by review); take over their state, then rename.
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='AutonomyPolicy',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('step', models.CharField(choices=[('review', 'Take review')], default='review', max_length=20)),
                    ('mode', models.CharField(choices=[('manual', 'Manual'), ('shadow', 'Shadow'), ('auto', 'Auto with sampling'), ('suspended', 'Suspended')], default='manual', max_length=10)),
                    ('threshold', models.FloatField(default=0.8, help_text='The machine predicts approval when the checks pass at this score')),
                    ('sample_rate', models.FloatField(default=0.1, help_text='Share of automatic decisions still sent to a human as an audit')),
                    ('min_decisions', models.PositiveIntegerField(default=50, help_text='N: how many recent human-checked predictions agreement is taken over')),
                    ('bar', models.FloatField(default=0.9, help_text='The Wilson lower bound of agreement must reach this for auto')),
                    ('status_reason', models.TextField(blank=True)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('ip', models.ForeignKey(blank=True, help_text='Leave empty for the policy every IP without its own follows', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='autonomy_policies', to='retrieval.ip')),
                    ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'verbose_name_plural': 'autonomy policies',
                    'ordering': ['step', 'ip__name', 'pk'],
                },
            ),
            migrations.CreateModel(
                name='PolicyEvent',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('kind', models.CharField(choices=[('created', 'Created'), ('changed', 'Changed by an admin'), ('promoted', 'Promoted to auto'), ('suspended', 'Suspended automatically')], max_length=10)),
                    ('from_mode', models.CharField(blank=True, choices=[('manual', 'Manual'), ('shadow', 'Shadow'), ('auto', 'Auto with sampling'), ('suspended', 'Suspended')], max_length=10)),
                    ('to_mode', models.CharField(blank=True, choices=[('manual', 'Manual'), ('shadow', 'Shadow'), ('auto', 'Auto with sampling'), ('suspended', 'Suspended')], max_length=10)),
                    ('changes', models.JSONField(blank=True, default=dict)),
                    ('evidence', models.JSONField(blank=True, default=dict)),
                    ('note', models.TextField(blank=True)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('actor', models.ForeignKey(blank=True, help_text='Empty when the machine acted', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('policy', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='reliability.autonomypolicy')),
                ],
                options={
                    'ordering': ['-created_at', '-pk'],
                },
            ),
            migrations.CreateModel(
                name='ReliabilityAlert',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('step', models.CharField(choices=[('retrieve', 'Retrieve'), ('plan', 'Plan'), ('plan_gate', 'Plan approval'), ('generate', 'Generate'), ('check', 'Check'), ('review', 'Review')], max_length=20)),
                    ('pass_rate', models.FloatField()),
                    ('threshold', models.FloatField()),
                    ('attempts', models.PositiveIntegerField()),
                    ('window_minutes', models.PositiveIntegerField()),
                    ('message', models.TextField()),
                    ('opened_at', models.DateTimeField(auto_now_add=True)),
                    ('resolved_at', models.DateTimeField(blank=True, null=True)),
                ],
                options={
                    'ordering': ['-opened_at', '-pk'],
                    'constraints': [models.UniqueConstraint(condition=models.Q(('resolved_at__isnull', True)), fields=('step',), name='alert_one_open_per_step')],
                },
            ),
            migrations.CreateModel(
                name='ShadowPrediction',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('route', models.CharField(choices=[('shadow', 'Shadow: a human decides'), ('audit', 'Sampled for a human audit'), ('auto', 'Decided by the machine'), ('human', 'Sent to a human (predicted reject)')], max_length=10)),
                    ('predicted', models.CharField(choices=[('approved', 'Approve'), ('rejected', 'Reject')], max_length=10)),
                    ('confidence', models.FloatField(blank=True, null=True)),
                    ('human_verdict', models.CharField(blank=True, choices=[('approved', 'Approve'), ('rejected', 'Reject')], max_length=10)),
                    ('agreed', models.BooleanField(null=True)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('decided_at', models.DateTimeField(blank=True, null=True)),
                    ('human', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('policy', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='predictions', to='reliability.autonomypolicy')),
                    ('take', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='predictions', to='briefs.take')),
                ],
                options={
                    'ordering': ['-created_at', '-pk'],
                },
            ),
            migrations.AddConstraint(
                model_name='autonomypolicy',
                constraint=models.UniqueConstraint(fields=('step', 'ip'), name='autonomy_one_policy_per_step_ip', nulls_distinct=False, violation_error_message='That step already has a policy for this IP; edit it.'),
            ),
            migrations.AddConstraint(
                model_name='autonomypolicy',
                constraint=models.CheckConstraint(condition=models.Q(('threshold__gte', 0), ('threshold__lte', 1)), name='autonomy_threshold_0_to_1'),
            ),
            migrations.AddConstraint(
                model_name='autonomypolicy',
                constraint=models.CheckConstraint(condition=models.Q(('sample_rate__gte', 0), ('sample_rate__lte', 1)), name='autonomy_sample_rate_0_to_1'),
            ),
            migrations.AddConstraint(
                model_name='autonomypolicy',
                constraint=models.CheckConstraint(condition=models.Q(('bar__gt', 0), ('bar__lte', 1)), name='autonomy_bar_0_to_1'),
            ),
            migrations.AddConstraint(
                model_name='autonomypolicy',
                constraint=models.CheckConstraint(condition=models.Q(('min_decisions__gte', 1)), name='autonomy_min_decisions_positive'),
            ),
            migrations.AddIndex(
                model_name='policyevent',
                index=models.Index(fields=['policy', 'created_at'], name='policyevent_trail_idx'),
            ),
            migrations.AddIndex(
                model_name='shadowprediction',
                index=models.Index(fields=['policy', 'decided_at'], name='prediction_agreement_idx'),
            ),
            migrations.AddConstraint(
                model_name='shadowprediction',
                constraint=models.UniqueConstraint(fields=('policy', 'take'), name='prediction_one_per_take'),
            ),
            migrations.AddConstraint(
                model_name='shadowprediction',
                constraint=models.CheckConstraint(condition=models.Q(models.Q(('agreed__isnull', True), ('human_verdict', '')), models.Q(models.Q(('human_verdict', ''), _negated=True), ('agreed__isnull', False)), _connector='OR'), name='prediction_agreed_iff_decided'),
            ),
                migrations.AlterModelTable(name='autonomypolicy', table='review_autonomypolicy'),
                migrations.AlterModelTable(name='policyevent', table='review_policyevent'),
                migrations.AlterModelTable(name='shadowprediction', table='review_shadowprediction'),
                migrations.AlterModelTable(name='reliabilityalert', table='review_reliabilityalert'),
            ],
        ),
        migrations.AlterModelTable(name='autonomypolicy', table=None),
        migrations.AlterModelTable(name='policyevent', table=None),
        migrations.AlterModelTable(name='shadowprediction', table=None),
        migrations.AlterModelTable(name='reliabilityalert', table=None),
        migrations.RunPython(adopt_content_types, return_content_types),
    ]
