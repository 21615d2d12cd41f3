import time
from pathlib import Path

from django.core.management.base import BaseCommand

from ...catcher import start


class Command(BaseCommand):
    help = "Development SMTP server on loopback that keeps every message (shown in the admin)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8025)
        parser.add_argument("--dir", required=True)

    def handle(self, *args, port, dir, **options):
        controller = start(Path(dir), port=port)
        self.stdout.write(f"mail catcher on smtp://127.0.0.1:{controller.port}, keeping mail in {dir}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
