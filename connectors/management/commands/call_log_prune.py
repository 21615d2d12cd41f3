from django.core.management.base import BaseCommand

from connectors.services import CALL_LOG_RETENTION_DAYS, call_log_prune


class Command(BaseCommand):
    help = "Deletes vendor call log rows older than the retention period."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=CALL_LOG_RETENTION_DAYS)

    def handle(self, *args, days, **opts):
        self.stdout.write(f"deleted {call_log_prune(days=days)} call log rows older than {days} days")
