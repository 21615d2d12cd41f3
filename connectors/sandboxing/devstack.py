"""What every vendor's `devstack.py` shares for `make run`: start its sandbox as a process, wait
for it, and set up a demo connection through the real services (idempotent).

Vendors other than Wafeq are connected in the "Demo Lab" organisation (ctx["lab_organization"]),
so the main demo organisation exports to one system and its review queue stays readable.
"""

import sys
import time

import requests
from django.conf import settings

from ..models import Connection
from ..services import connection_create, connection_setup_run


def sandbox_process(ctx: dict, system: str, port: int, *, scheme: str = "http") -> list[tuple[str, list[str]]]:
    port += ctx.get("port_offset", 0)
    ctx[f"{system}_base_url"] = f"{scheme}://127.0.0.1:{port}"
    snapshot = str(settings.VAR_DIR / f"{system.replace('_', '-')}-sandbox.json")
    name = f"{system.replace('_', '-')}-sandbox"
    return [(name, [sys.executable, "manage.py", "sandbox", system, "--port", str(port), "--snapshot", snapshot])]


def sandbox_wait(url: str, *, verify: bool | str = True, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1, verify=verify)
            return
        except (requests.RequestException, OSError):
            time.sleep(0.3)
    raise SystemExit(f"the sandbox at {url} did not start within {timeout}s")


def demo_connection(ctx: dict, *, system: str, name: str, noun: str = "expense accounts", **create) -> Connection:
    """Get-or-create the named connection, run the setup flow, print one line, remember its id."""
    org = ctx.get("lab_organization") or ctx["organization"]
    conn = Connection.objects.filter(organization=org, name=name).first() or connection_create(
        organization=org, system=system, name=name, **create)
    outcome = connection_setup_run(connection=conn)
    conn.refresh_from_db()
    ctx[f"{system}_connection_id"] = conn.pk
    print(f"  {system.replace('_', ' ')}: {conn.name} {conn.status} in {org.slug}; "
          f"claims={conn.employee_claims_account_name!r} balance={conn.employees_balance_account_name!r} "
          f"bank={conn.funding_bank_account_name!r} ({outcome.get('expense_accounts', 0)} {noun})")
    return conn
