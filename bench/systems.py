"""What `bench/export.py` needs to know of each accounting system, and nothing more.

The systems are the vendors in `connectors/registry.py`; each vendor's `sandbox/bench.py` holds a
`PROFILE` with the fields below. Each system is driven through its own `testkit` (the same set-up
the contract suite uses: `connect`, `held`), so the benchmark exercises the production connector
and sandbox:

- `limit`: the vendor's documented request limit in requests per second, enforced by the sandbox
  itself and kept by our client (None: none documented; the run then uses `--rate` through the
  shared sandbox limiter);
- `min_calls`: the fewest remote calls one new expense can cost on this vendor (the physical bound
  divides the request budget by it);
- `prepare(server)`: runs inside the sandbox process (e.g. the company keeps its books in SAR);
- `travel_account(server)`: the remote account the bench's TRAVEL category maps to;
- `settings`: connection settings the bench adds (e.g. a default cost centre for Workday);
- `vendor_limits(server, on)`: switches the sandbox's own enforcement of `limit` off for set-up
  calls (they are not what is measured) and back on, with fresh counters, for the run;
- `aliases`: shorter names `--system` accepts; `control_scheme`: how the sandbox is reached;
- `booked(server)`: our reference → [(currency, gross)] of each document the sandbox holds (the
  chaos run compares them with what we recorded; None: the vendor cannot be chaos-run yet).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.registry import vendor, vendors


def _none(server) -> None:
    return None


def _switch_none(server, on: bool) -> None:
    return None


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
    aliases: tuple[str, ...] = ()
    control_scheme: str = "http"
    booked: Callable | None = None

    @property
    def kit(self):
        return vendor(self.name).module("testkit")

    @property
    def sandbox_enforces_limit(self) -> bool:
        return self.vendor_limits is not _switch_none

    def make_server(self, *, port: int):
        return vendor(self.name).module("sandbox").make_server(port=port, **self.sandbox_options)


SYSTEMS = {v.key: System(v.key, v.label, **v.module("bench").PROFILE) for v in vendors()}

ALIASES = {alias: s.name for s in SYSTEMS.values() for alias in s.aliases}


def system_for(name: str) -> System:
    return SYSTEMS[ALIASES.get(name, name)]
