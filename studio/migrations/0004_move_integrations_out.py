"""The core keeps worker heartbeats; tokens and webhooks moved to the integrations app."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('studio', '0003_integrations'),
        ('integrations', '0001_initial'),
    ]

    operations = [
        # The tables now belong to integrations; only this app's idea of them goes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='WebhookAttempt'),
                migrations.DeleteModel(name='WebhookDelivery'),
                migrations.DeleteModel(name='WebhookEndpoint'),
                migrations.DeleteModel(name='ApiToken'),
            ],
        ),
    ]
