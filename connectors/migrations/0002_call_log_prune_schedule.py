"""Call log retention runs daily on the django-q2 scheduler (also: `manage.py call_log_prune`)."""

from django.db import migrations

NAME = "connectors: prune vendor call log"


def add(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(name=NAME, defaults={"func": "connectors.tasks.call_log_prune_task",
                                                        "schedule_type": "D", "repeats": -1})


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("connectors", "0001_initial"), ("django_q", "0018_task_success_index")]
    operations = [migrations.RunPython(add, remove)]
