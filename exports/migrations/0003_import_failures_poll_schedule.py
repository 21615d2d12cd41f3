"""Asynchronous import failures are polled every 5 minutes (also: `manage.py import_failures_poll`)."""

from django.db import migrations

NAME = "exports: poll vendor import failures"


def add(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(name=NAME, defaults={"func": "exports.tasks.import_failures_poll",
                                                        "schedule_type": "I", "minutes": 5, "repeats": -1})


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("exports", "0002_vendor_warnings_import_failures"), ("django_q", "0018_task_success_index")]
    operations = [migrations.RunPython(add, remove)]
