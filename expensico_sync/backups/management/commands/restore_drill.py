from django.core.management.base import BaseCommand, CommandError

from ...services import drill


class Command(BaseCommand):
    help = "Restores the latest backup into a scratch database, checks row counts and hashes, records the result."

    def add_arguments(self, parser):
        parser.add_argument("--target", help="Where the backups are (default BACKUP_TARGET)")

    def handle(self, *args, target=None, **options):
        run = drill(target_url=target)
        if run.status != run.Status.OK:
            raise CommandError(f"restore drill failed: {run.detail}")
        self.stdout.write(f"restore drill OK: {run.name}: {run.detail}")
