from django.db import migrations, models


class Migration(migrations.Migration):
    """Existing connections stay active (the field's default); the admin's guided setup creates
    new ones inactive."""

    dependencies = [
        ("connectors", "0007_credential_dates"),
    ]

    operations = [
        migrations.AddField(
            model_name="connection", name="active",
            field=models.BooleanField(default=True, help_text="Exports flow only while the connection is active."),
        ),
        migrations.AddField(
            model_name="connection", name="export_from",
            field=models.DateField(blank=True, null=True, help_text="Documents dated before this day are not "
                                   "exported (a historical sync is an explicit, later step)."),
        ),
        migrations.AddField(
            model_name="connection", name="activated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="historicalconnection", name="active",
            field=models.BooleanField(default=True, help_text="Exports flow only while the connection is active."),
        ),
        migrations.AddField(
            model_name="historicalconnection", name="export_from",
            field=models.DateField(blank=True, null=True, help_text="Documents dated before this day are not "
                                   "exported (a historical sync is an explicit, later step)."),
        ),
        migrations.AddField(
            model_name="historicalconnection", name="activated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
