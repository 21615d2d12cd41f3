"""What bench/export.py needs of Moon ERP (the fields of `bench.systems.System`). Loads no Django:
the benchmark reads it before setting Django up; the hooks run inside the sandbox process."""


def _travel_account(server) -> str:
    return "category:2"


def _limits(server, on: bool) -> None:
    with server.app.lock:
        server.app.throttle_per_minute = 60 if on else None
        server.app._throttle.clear()


# Create the draft, then approve it (its journal entry is the vendor's): two calls per expense.
PROFILE = {"limit": 1, "limit_note": "60 requests / min (inferred)", "min_calls": 2, "expenses": 60,
           "naive_expenses": 15, "travel_account": _travel_account, "vendor_limits": _limits,
           "aliases": ("moon",)}
