"""`make run`: the whole product in the foreground.

Starts the web server and a django-q2 worker, plus whatever long-running processes the apps
ask for (vendor sandboxes, the Expensico simulator), creates the admin and the demo
organisation, lets each app seed the demo once the web server answers, prints the admin URL
and login, and stops everything on Ctrl-C, SIGTERM or SIGHUP (see `expensico_sync.core.children`).
"""

import os
import signal
import sys
import time

import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from expensico_sync.core.children import Children, Stopped, stop_signals_raise
from expensico_sync.core.devstack import devstack_modules
from expensico_sync.core.models import Organization
from expensico_sync.core.services import organization_create


class Command(BaseCommand):
    help = "Runs web + worker + sandboxes with a demo organisation (used by `make run`)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-seed", action="store_true")
        parser.add_argument("--port-offset", type=int, default=0,
                            help="added to the simulator's and sandboxes' fixed ports (8700, 88xx), so a "
                                 "second devstack can run beside the first")
        parser.add_argument("--stop-grace", type=float, default=10.0,
                            help="seconds children get to stop before they are killed")

    def handle(self, *args, host, port, no_seed, port_offset, stop_grace, **opts):
        # The sandboxes and the simulator started here listen on loopback: this process (the seeds)
        # and its children send them credentials. `make run` sets the same; an explicit value wins.
        for name in ("VENDOR_HOSTS_ALLOW", "EXPENSICO_HOSTS_ALLOW"):
            os.environ.setdefault(name, "127.0.0.1,localhost")
            setattr(settings, name, [h for h in os.environ[name].split(",") if h])
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
               "procs": {}, "port_offset": port_offset}

        children = Children()
        stopped_by = None
        python = sys.executable
        wanted = [("web", [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"]),
                  ("worker", [python, "manage.py", "qcluster"])]
        for module in devstack_modules():
            if hasattr(module, "processes"):
                wanted.extend(module.processes(ctx))
        stop_signals_raise()
        try:
            for name, argv in wanted:
                ctx["procs"][name] = children.start(name, argv, env={**os.environ, "DEBUG": "1"})
            self._wait_for(f"{base_url}/healthz", children)
            if not no_seed:
                for module in devstack_modules():
                    if hasattr(module, "seed"):
                        module.seed(ctx)
            self.stdout.write(self.style.SUCCESS(
                f"\n  expensico-sync is running\n  admin:  {base_url}/admin/\n"
                f"  login:  admin / {password}\n  API:    {base_url}/api/docs/\n  Ctrl-C stops everything.\n"))
            while not children.exited():
                time.sleep(0.5)
            self.stderr.write(f"stopped: {', '.join(children.exited())} exited")
        except Stopped as stop:
            stopped_by = stop.signum
        finally:
            if killed := children.stop(signum=stopped_by or signal.SIGINT, grace=stop_grace):
                self.stderr.write(f"killed after {stop_grace:g}s: {', '.join(killed)}")
        if stopped_by:
            # Die of the signal, so `make`, `timeout` or a shell see how the devstack ended.
            sys.stdout.flush()
            sys.stderr.flush()
            signal.signal(stopped_by, signal.SIG_DFL)
            os.kill(os.getpid(), stopped_by)

    def _wait_for(self, url, children, timeout=None):
        """Wait for the web server: as long as it takes a busy machine to import the project (minutes
        on a loaded two-core box), but no longer than a child that has died (that fails at once)."""
        timeout = timeout or float(os.environ.get("DEVSTACK_WAIT_SECONDS", "600"))
        started = time.monotonic()
        deadline, told = started + timeout, started
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            if dead := children.exited():
                raise SystemExit(f"{', '.join(dead)} exited before {url} answered: see the output above")
            if time.monotonic() - told >= 15:
                told = time.monotonic()
                self.stderr.write(f"  waiting for {url} ({told - started:.0f}s; a busy machine imports slowly)")
            time.sleep(0.3)
        raise SystemExit(f"{url} did not answer within {timeout:g}s (DEVSTACK_WAIT_SECONDS raises it)")
