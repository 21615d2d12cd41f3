"""Listeners of the mappings app.

- Any mapping saved or deleted: announce `mappings_changed` once the transaction commits.
- A report arrives (possibly with a category nobody mapped yet): if the organisation allows
  confident suggestions to apply themselves, queue that after commit. Never inside intake's
  transaction: the suggestion scan reads every open expense.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from .models import MAPPING_MODELS, MappingPreference
from .signals import announce_change


def on_mapping_changed(sender, instance, **kwargs):
    announce_change(connection=instance.connection, kinds={sender.KIND})


def on_report_approved(sender, organization, **kwargs):
    threshold = MappingPreference.objects.filter(organization=organization).values_list(
        "auto_apply_threshold", flat=True).first()
    if threshold is None:
        return
    from django_q.tasks import async_task

    from connectors.models import Connection

    for connection_id in Connection.objects.filter(organization=organization).values_list("pk", flat=True):
        transaction.on_commit(lambda pk=connection_id: async_task("mappings.tasks.suggestions_auto_apply_task", pk))


def ensure_training_schedule(sender, **kwargs):
    """The categorisers retrain weekly; idempotent (post_migrate runs on every migrate)."""
    if sender.name != "mappings":
        return
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="mappings.categorisers_train",
        defaults={"func": "mappings.tasks.categorisers_train_task", "schedule_type": Schedule.WEEKLY,
                  "repeats": -1})


def connect():
    from django.db.models.signals import post_migrate

    from expensico_sync.source.signals import report_approved

    for model in MAPPING_MODELS:
        post_save.connect(on_mapping_changed, sender=model, dispatch_uid=f"mappings_changed_{model.KIND}")
        post_delete.connect(on_mapping_changed, sender=model, dispatch_uid=f"mappings_deleted_{model.KIND}")
    report_approved.connect(on_report_approved, dispatch_uid="mappings.report_approved")
    post_migrate.connect(ensure_training_schedule, dispatch_uid="mappings.training_schedule")
