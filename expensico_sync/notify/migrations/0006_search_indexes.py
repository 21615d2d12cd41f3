from django.db import migrations

from expensico_sync.core.db import upper_pattern_indexes


class Migration(migrations.Migration):
    """The outbox's search: prefix on the subject, exact on the incident, both on an index."""

    dependencies = [("notify", "0005_recipient_language")]

    operations = [upper_pattern_indexes("notify_notification", "subject", "incident")]
