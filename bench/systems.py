"""What `bench/export.py` needs to know of each accounting system, and nothing more.

Each system is driven through its own package's `testkit` (the same set-up the contract suite
uses: `connect`, `held`), so the benchmark exercises the production connector and sandbox:

- `limit`: the vendor's documented request limit in requests per second, enforced by the sandbox
  itself and kept by our client (None: none documented; the run then uses `--rate` through the
  shared sandbox limiter);
- `min_calls`: the fewest remote calls one new expense can cost on this vendor (the physical bound
  divides the request budget by it);
- `prepare(server)`: runs inside the sandbox process (e.g. the company keeps its books in SAR);
- `travel_account(server)`: the remote account the bench's TRAVEL category maps to;
- `settings`: connection settings the bench adds (e.g. a default cost centre for Workday);
- `vendor_limits(server, on)`: switches the sandbox's own enforcement of `limit` off for set-up
  calls (they are not what is measured) and back on, with fresh counters, for the run.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module


def _none(server) -> None:
    return None


def _switch_none(server, on: bool) -> None:
    return None


def _xledger_limits(server, on: bool) -> None:
    with server.app.lock:
        server.app.burst_limit = (20, 5.0) if on else None
        server.app.recent.clear()


def _moon_limits(server, on: bool) -> None:
    with server.app.lock:
        server.app.throttle_per_minute = 60 if on else None
        server.app._throttle.clear()


@dataclass(frozen=True)
class System:
    name: str
    label: str
    limit: float | None
    limit_note: str
    min_calls: int = 1
    expenses: int = 1000              # default run size (rate-limited vendors take fewer)
    naive_expenses: int = 200
    prepare: Callable = _none
    travel_account: Callable = _none
    settings: dict = field(default_factory=dict)
    sandbox_options: dict = field(default_factory=dict)
    vendor_limits: Callable = _switch_none

    @property
    def kit(self):
        return import_module(f"connectors.{self.name}.testkit")

    @property
    def sandbox_enforces_limit(self) -> bool:
        return self.vendor_limits is not _switch_none

    def make_server(self, *, port: int):
        return import_module(f"connectors.{self.name}.sandbox").make_server(port=port, **self.sandbox_options)


def _books_in_sar_bc(server) -> None:
    server.app.company["currency"] = "SAR"
    for row in server.app.sets["companyInformation"].values():
        row["currencyCode"] = "SAR"


def _books_in_sar_xledger(server) -> None:
    server.app.tables["entities"][0]["currency"] = {"code": "SAR"}
    server.app._add("currencies", {"code": "SAR", "description": "Saudi riyal"})


def _wafeq_travel(server) -> str:
    return import_module("connectors.wafeq.testkit")._expense_account(server.app)


def _bc_travel(server) -> str:
    return import_module("connectors.business_central.testkit")._account(server, "6100")


def _xledger_travel(server) -> str:
    return import_module("connectors.xledger.testkit")._account(server, "7140")


def _apideck_travel(server) -> str:
    return import_module("connectors.apideck.schema").encode_account_id("6100", "Standard")


SYSTEMS = {s.name: s for s in (
    System("wafeq", "Wafeq", None, "none documented", travel_account=_wafeq_travel),
    System("business_central", "Business Central", 20, "6,000 requests / 5 min, 5 concurrent",
           prepare=_books_in_sar_bc, travel_account=_bc_travel),
    System("xledger", "Xledger", 4, "burst 20 requests / 5 s", expenses=200, naive_expenses=40,
           prepare=_books_in_sar_xledger, travel_account=_xledger_travel, vendor_limits=_xledger_limits),
    System("workday", "Workday (SOAP)", None, "none documented", travel_account=lambda s: "Standard/6100",
           settings={"default_cost_center": "CC100"}),
    System("apideck", "Workday via Apideck", None, "none of Apideck's own", travel_account=_apideck_travel,
           settings={"default_cost_center": "CC100"}),
    # Moon: create the draft, then approve it (its journal entry is the vendor's): two calls.
    System("moon_erp", "Moon ERP", 1, "60 requests / min (inferred)", min_calls=2, expenses=60, naive_expenses=15,
           travel_account=lambda s: "category:2", vendor_limits=_moon_limits),
)}

ALIASES = {"bc": "business_central", "moon": "moon_erp"}


def system_for(name: str) -> System:
    return SYSTEMS[ALIASES.get(name, name)]
