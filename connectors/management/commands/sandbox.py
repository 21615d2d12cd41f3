"""`python manage.py sandbox NAME --port P`: runs a vendor sandbox in the foreground.

Each vendor's registry entry names a sandbox module with `make_server(host=, port=, snapshot=,
verbose=)`; this command only parses switches, prints the banner and serves."""

import signal
import sys

from django.core.management.base import BaseCommand, CommandError

from connectors.registry import vendor, vendors


class Command(BaseCommand):
    help = "Runs a vendor sandbox (a real HTTP server speaking the vendor's contract)."

    def add_arguments(self, parser):
        parser.add_argument("name", choices=[entry.key for entry in vendors()], help="vendor key")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8801)
        parser.add_argument("--snapshot", help="JSON file: state is loaded at start and saved on exit")
        parser.add_argument("--latency-ms", type=int, default=0, help="added to every request")
        parser.add_argument("--rate-limit", type=int, default=0, help="requests per second before 429")
        parser.add_argument("--retry-after", default=None, help="Retry-After sent with those 429s")
        parser.add_argument("--fail-5xx", type=int, default=0, help="the next N requests answer 503")
        parser.add_argument("--verbose", action="store_true")

    def handle(self, *args, name, host, port, snapshot, latency_ms, rate_limit, retry_after, fail_5xx, verbose,
               **opts):
        try:
            sandbox = vendor(name).module("sandbox")
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        server = sandbox.make_server(host=host, port=port, snapshot=snapshot, verbose=verbose)
        app = server.app
        app.latency_ms = latency_ms
        if rate_limit:
            app.rate_limit = {"per_second": rate_limit, "retry_after": retry_after}
        if fail_5xx:
            app.inject("server_error", count=fail_5xx)
        for line in app.banner(server.base_url):
            self.stdout.write(line)
        self.stdout.flush()
        sys.stdout.flush()
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            if snapshot and hasattr(app, "save"):
                app.save(snapshot)
            server.httpd.server_close()
