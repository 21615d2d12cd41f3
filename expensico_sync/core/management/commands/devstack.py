"""`make run`: the whole product in the foreground.

Starts the web server and a django-q2 worker, plus whatever long-running processes the apps
ask for (vendor sandboxes, the Expensico simulator), creates the admin and the demo
organisation, lets each app seed the demo once the web server answers, prints the admin URL
and login, and stops everything on Ctrl-C.
"""

import os
import signal
import subprocess
import sys
import time
from importlib import import_module
from importlib.util import find_spec

import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from expensico_sync.core.models import Organization
from expensico_sync.core.services import organization_create

# Apps that take part: each may define `processes(ctx) -> [(name, argv)]` and `seed(ctx)`.
# The main demo organisation exports to Wafeq; the other vendors' sandboxes are connected in a
# second "Demo Lab" organisation, so each system can be tried without flooding one review queue.
DEVSTACK_MODULES = ["expensico_sync.source.devstack", "connectors.devstack", "mappings.devstack",
                    "exports.devstack", "connectors.business_central.devstack", "connectors.xledger.devstack",
                    "connectors.workday.devstack", "connectors.apideck.devstack", "connectors.moon_erp.devstack"]


def _modules():
    for name in DEVSTACK_MODULES:
        if find_spec(name.rsplit(".", 1)[0]) and find_spec(name):
            yield import_module(name)


class Command(BaseCommand):
    help = "Runs web + worker + sandboxes with a demo organisation (used by `make run`)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-seed", action="store_true")

    def handle(self, *args, host, port, no_seed, **opts):
        # The sandboxes started here listen on loopback: this process (the seeds) and its children
        # send them credentials. `make run` sets the same; an explicit value wins.
        os.environ.setdefault("VENDOR_HOSTS_ALLOW", "127.0.0.1,localhost")
        settings.VENDOR_HOSTS_ALLOW = [h for h in os.environ["VENDOR_HOSTS_ALLOW"].split(",") if h]
        pw_file = settings.VAR_DIR / "admin-password"
        call_command("create_admin", password_file=str(pw_file), stdout=open(os.devnull, "w"))
        password = pw_file.read_text().strip()
        org = Organization.objects.filter(slug="demo").first() or organization_create(
            slug="demo", name="Demo Trading Co", base_currency="SAR", country="SA", timezone="Asia/Riyadh")
        lab = Organization.objects.filter(slug="demo-lab").first() or organization_create(
            slug="demo-lab", name="Demo Lab (other systems)", base_currency="SAR", country="SA",
            timezone="Asia/Riyadh")
        base_url = f"http://{host}:{port}"
        ctx = {"base_url": base_url, "organization": org, "lab_organization": lab, "admin_password": password,
               "procs": {}}

        procs: list[tuple[str, subprocess.Popen]] = []
        python = sys.executable
        wanted = [("web", [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"]),
                  ("worker", [python, "manage.py", "qcluster"])]
        for module in _modules():
            if hasattr(module, "processes"):
                wanted.extend(module.processes(ctx))
        try:
            for name, argv in wanted:
                proc = subprocess.Popen(argv, env={**os.environ, "DEBUG": "1"})
                procs.append((name, proc))
                ctx["procs"][name] = proc
            self._wait_for(f"{base_url}/healthz")
            if not no_seed:
                for module in _modules():
                    if hasattr(module, "seed"):
                        module.seed(ctx)
            self.stdout.write(self.style.SUCCESS(
                f"\n  expensico-sync is running\n  admin:  {base_url}/admin/\n"
                f"  login:  admin / {password}\n  API:    {base_url}/api/docs/\n  Ctrl-C stops everything.\n"))
            while all(p.poll() is None for _, p in procs):
                time.sleep(0.5)
            dead = [n for n, p in procs if p.poll() is not None]
            self.stderr.write(f"stopped: {', '.join(dead)} exited")
        except KeyboardInterrupt:
            pass
        finally:
            for _, proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 10
            for _, proc in procs:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()

    def _wait_for(self, url, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise SystemExit(f"{url} did not answer within {timeout}s")
