from django.db import migrations, models


class Migration(migrations.Migration):
    """The code and parameters of the texts we write into review items and export records
    (exports/messages.py), so they show in the viewer's language; rows before keep their text."""

    dependencies = [
        ('exports', '0021_report_waits_for_evidence_pack'),
    ]

    operations = [
        migrations.AddField(
            model_name='reconciliationdifference',
            name='detail_message',
            field=models.JSONField(blank=True, default=dict, verbose_name='detail (message code)'),
        ),
        migrations.AddField(
            model_name='anomalyflag',
            name='explanation_message',
            field=models.JSONField(blank=True, default=dict, verbose_name='explanation (message code)'),
        ),
        migrations.AddField(
            model_name='generatedreport',
            name='error_message',
            field=models.JSONField(blank=True, default=dict, verbose_name='error (message code)'),
        ),
        migrations.AddField(
            model_name='exportrecord',
            name='last_error_message',
            field=models.JSONField(blank=True, default=dict, verbose_name='last error (message code)'),
        ),
        migrations.AddField(
            model_name='reviewitem',
            name='detail_message',
            field=models.JSONField(blank=True, default=dict, verbose_name='detail (message code)'),
        ),
    ]
