from django.core.management.base import BaseCommand

from expensico_sync.source.simulator.generator import generate
from expensico_sync.source.simulator.sender import send_webhooks
from expensico_sync.source.simulator.server import SimulatorServer, SimulatorState


class Command(BaseCommand):
    help = "Serves a seeded Expensico organisation over the pull API and optionally sends its webhooks."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8700)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--scale", type=int, default=20, help="number of expense reports")
        parser.add_argument("--token", default="sim-token", help="bearer token the pull API expects")
        parser.add_argument("--send-webhooks-to", default="", help="intake URL, e.g. http://127.0.0.1:8000/api/v1/expensico/webhooks/demo/")
        parser.add_argument("--secret", default="", help="whsec_… signing secret")
        parser.add_argument("--duplicates", type=float, default=0.0, help="share of deliveries sent twice")
        parser.add_argument("--reorder", type=float, default=0.0, help="share of deliveries swapped with the next")
        parser.add_argument("--delay", type=float, default=0.0, help="seconds between deliveries")
        parser.add_argument("--rate-limit-every", type=int, default=0, help="answer 429 to every Nth request")
        parser.add_argument("--error-every", type=int, default=0, help="answer 503 to every Nth request")
        parser.add_argument("--no-serve", action="store_true", help="send webhooks, then exit")

    def handle(self, *args, **o):
        state = SimulatorState(None, o["token"], rate_limit_every=o["rate_limit_every"], error_every=o["error_every"])
        server = SimulatorServer((o["host"], o["port"]), state)
        state.dataset = ds = generate(seed=o["seed"], scale=o["scale"], base_url=server.base_url)
        expenses = sum(len(r["expenses"]) for r in ds.reports)
        self.stdout.write(f"Expensico simulator: {server.base_url} (token {o['token']}), seed {o['seed']}: "
                          f"{len(ds.reports)} reports, {expenses} expenses, {len(ds.fundings)} fundings, "
                          f"{len(ds.reimbursements)} reimbursements, {len(ds.statement_lines)} statement lines, "
                          f"{len(ds.events)} events")
        if o["send_webhooks_to"]:
            if not o["secret"]:
                raise SystemExit("--secret is required with --send-webhooks-to")
            statuses = send_webhooks(ds.events, url=o["send_webhooks_to"], secret=o["secret"], seed=o["seed"],
                                     duplicates=o["duplicates"], reorder=o["reorder"], delay=o["delay"])
            self.stdout.write(f"webhooks sent: {dict(sorted(statuses.items()))}")
        if o["no_serve"]:
            return
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
