from django.core.management.base import BaseCommand

from exports.services.import_failures import import_failures_poll_due


class Command(BaseCommand):
    help = ("Polls vendors that import asynchronously (Xledger) for import failures now; each failure of one "
            "of our records becomes a review item.")

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", dest="poll_all",
                            help="also poll connections that are not due (costs one request each)")

    def handle(self, *args, poll_all, **opts):
        counts = import_failures_poll_due(force=poll_all)
        self.stdout.write(", ".join(f"{key} {value}" for key, value in sorted(counts.items())))
