from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from ...crypto import BackupRefused
from ...dump import BackupFailed
from ...models import BackupRun
from ...services import database_from_url, restore


class Command(BaseCommand):
    help = ("Restores a backup (a name in BACKUP_TARGET, a local file, or the latest) into an EMPTY "
            "database: --database-url, or the configured one. Refuses a wrong key or an altered file.")

    def add_arguments(self, parser):
        parser.add_argument("backup", nargs="?", help="Backup name or path (default: the latest in the target)")
        parser.add_argument("--database-url", help="Restore into this database (must be empty)")
        parser.add_argument("--target", help="Where to find the backup (default BACKUP_TARGET)")

    def handle(self, *args, backup=None, database_url=None, target=None, **options):
        into = database_from_url(database_url) if database_url else connections["default"].settings_dict
        try:
            manifest = restore(backup, into=into, target_url=target)
        except (BackupRefused, BackupFailed) as exc:
            raise CommandError(str(exc)) from exc
        if not database_url:   # the restored database is the live one now: record it there
            BackupRun.objects.create(kind=BackupRun.Kind.RESTORE, status=BackupRun.Status.OK, name=manifest["name"],
                                     sha256=manifest["sha256"], size=manifest["size"],
                                     row_counts=manifest["row_counts"])
        self.stdout.write(f"restored {manifest['name']} ({sum(manifest['row_counts'].values())} rows) into "
                          f"{into['NAME']}")
