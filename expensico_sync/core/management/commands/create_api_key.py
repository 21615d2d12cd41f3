from django.core.management.base import BaseCommand, CommandError

from expensico_sync.core.models import Organization
from expensico_sync.core.roles import Role
from expensico_sync.core.services import api_key_create


class Command(BaseCommand):
    help = "Creates an API key bound to one organisation and role, and prints it (once)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--name", required=True)

    def handle(self, *args, **opts):
        org = Organization.objects.filter(slug=opts["org"]).first()
        if org is None:
            raise CommandError(f"--org: no organisation with slug {opts['org']!r}.")
        api_key, key = api_key_create(organization=org, role=opts["role"], name=opts["name"])
        self.stdout.write(f"api key ({api_key.prefix}, {opts['role']} of {org.slug}): {key}")
        self.stdout.write("Use it as: Authorization: Api-Key <key>. It is not shown again.")
