from django.db import migrations

from expensico_sync.core.db import upper_pattern_indexes


class Migration(migrations.Migration):
    dependencies = [("connectors", "0004_concurrency_slot")]

    operations = [upper_pattern_indexes("connectors_calllog", "idempotency_key", "request_id", "path")]
