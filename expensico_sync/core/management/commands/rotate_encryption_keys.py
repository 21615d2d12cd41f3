from django.core.management.base import BaseCommand

from expensico_sync.core.services import encryption_keys_rotate


class Command(BaseCommand):
    help = ("Re-encrypts every stored secret under the newest key in FIELD_ENCRYPTION_KEYS. "
            "Prepend the new key, run this, then drop the old key.")

    def handle(self, *args, **opts):
        for label, count in encryption_keys_rotate().items():
            self.stdout.write(f"{label}: {count} row(s) re-encrypted")
