"""Review keeps the board; the autonomy and alert models moved to the reliability app."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('review', '0002_autonomy'),
        ('reliability', '0001_initial'),
    ]

    operations = [
        # The tables now belong to reliability; only this app's idea of them goes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='ShadowPrediction'),
                migrations.DeleteModel(name='PolicyEvent'),
                migrations.DeleteModel(name='ReliabilityAlert'),
                migrations.DeleteModel(name='AutonomyPolicy'),
            ],
        ),
    ]
