from datetime import date

from django.core.management.base import BaseCommand, CommandError

from expensico_sync.core.models import Organization
from expensico_sync.source.models import PullSync
from expensico_sync.source.pull import pull_sync_create, pull_sync_run


class Command(BaseCommand):
    help = "Historical sync from the Expensico pull API for one organisation (or resume one by --resume ID)."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="organisation slug")
        parser.add_argument("--from", dest="date_from", type=date.fromisoformat)
        parser.add_argument("--to", dest="date_to", type=date.fromisoformat)
        parser.add_argument("--resume", type=int, help="PullSync id to resume from its saved cursors")

    def handle(self, *args, org, date_from, date_to, resume, **opts):
        if resume:
            run = PullSync.objects.get(pk=resume)
        else:
            if not (org and date_from and date_to):
                raise CommandError("--org, --from and --to are required (or --resume ID)")
            run = pull_sync_create(organization=Organization.objects.get(slug=org), date_from=date_from,
                                   date_to=date_to)
        run = pull_sync_run(pull_sync=run)
        self.stdout.write(f"pull sync {run.pk}: {run.status} {run.counts}")
