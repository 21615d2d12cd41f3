from django.core.management.base import BaseCommand, CommandError

from expensico_sync.core.models import Organization

from ...services import apply, apply_all


class Command(BaseCommand):
    help = "Deletes or anonymises what is past each retention period (organisations on legal hold are skipped)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print what would go; change nothing.")
        parser.add_argument("--org", help="One organisation's slug (default: all)")

    def handle(self, *args, dry_run=False, org=None, **options):
        if org:
            organization = Organization.objects.filter(slug=org).first()
            if organization is None:
                raise CommandError(f"--org: no organisation {org!r}")
            steps = apply(organization, dry_run=dry_run)
        else:
            steps = apply_all(dry_run=dry_run)
        self.stdout.write(f"{'organisation':<20} {'policy':<24} {'action':<10} {'keep':>5} {'older than':<11} "
                          f"{'rows':>8}  {'result'}")
        for s in steps:
            result = "legal hold: kept" if s.held else ("would go" if dry_run else f"{s.applied} done")
            self.stdout.write(f"{s.organization.slug:<20} {s.policy.key:<24} {s.policy.action:<10} {s.months:>4}m "
                              f"{s.cutoff:%Y-%m-%d}  {s.rows:>8}  {result}")
