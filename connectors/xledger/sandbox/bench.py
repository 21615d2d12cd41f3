"""What bench/export.py needs of Xledger (the fields of `bench.systems.System`). Loads no Django:
the benchmark reads it before setting Django up; the hooks run inside the sandbox process."""


def _books_in_sar(server) -> None:
    server.app.tables["entities"][0]["currency"] = {"code": "SAR"}
    server.app._add("currencies", {"code": "SAR", "description": "Saudi riyal"})


def _travel_account(server) -> str:
    from .testkit import _account

    return _account(server, "7140")


def _limits(server, on: bool) -> None:
    with server.app.lock:
        server.app.burst_limit = (20, 5.0) if on else None
        server.app.recent.clear()


PROFILE = {"limit": 4, "limit_note": "burst 20 requests / 5 s", "expenses": 200, "naive_expenses": 40,
           "prepare": _books_in_sar, "travel_account": _travel_account, "vendor_limits": _limits}
