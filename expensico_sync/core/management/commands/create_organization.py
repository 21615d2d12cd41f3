from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from expensico_sync.core.models import Organization
from expensico_sync.core.services import organization_create


class Command(BaseCommand):
    help = "Creates an organisation and prints its Expensico webhook secret (once)."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--base-currency", required=True)
        parser.add_argument("--country", required=True)
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--mode", default=Organization.Mode.DRY_RUN, choices=Organization.Mode.values)

    def handle(self, *args, **opts):
        if len(opts["base_currency"]) != 3 or len(opts["country"]) != 2:
            raise CommandError("--base-currency takes an ISO-4217 code (3 letters), --country ISO-3166 (2).")
        try:
            org = organization_create(slug=opts["slug"], name=opts["name"], base_currency=opts["base_currency"],
                                      country=opts["country"], timezone=opts["timezone"], mode=opts["mode"])
        except IntegrityError:
            raise CommandError(f"--slug: an organisation with slug {opts['slug']!r} already exists.") from None
        self.stdout.write(f"organization: {org.slug} (id {org.pk})")
        self.stdout.write(f"webhook url: /api/v1/expensico/webhooks/{org.slug}/")
        self.stdout.write(f"webhook secret: {org.webhook_secret}")
        self.stdout.write("Store the secret in Expensico now; it is not shown again.")
