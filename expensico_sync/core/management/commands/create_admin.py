import os

from django.core.management.base import BaseCommand

from expensico_sync.core.services import admin_ensure


class Command(BaseCommand):
    help = "Creates or updates a superuser (idempotent) and prints the password in force."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@example.com")
        parser.add_argument("--password", default=os.environ.get("ADMIN_PASSWORD"),
                            help="defaults to $ADMIN_PASSWORD, else a new random one")
        parser.add_argument("--password-file", help="keep the password here so reruns print the same one")

    def handle(self, *args, **opts):
        password = opts["password"]
        path = opts["password_file"]
        if not password and path and os.path.exists(path):
            with open(path) as fh:
                password = fh.read().strip() or None
        user, password = admin_ensure(username=opts["username"], email=opts["email"], password=password)
        if path:
            with open(path, "w") as fh:
                fh.write(password)
            os.chmod(path, 0o600)
        self.stdout.write(f"admin login: {user.username} / {password}")
