"""What bench/export.py needs of Wafeq (the fields of `bench.systems.System`). Loads no Django:
the benchmark reads it before setting Django up; the hooks run inside the sandbox process."""


def _travel_account(server) -> str:
    from .testkit import _expense_account

    return _expense_account(server.app)


PROFILE = {"limit": None, "limit_note": "none documented", "travel_account": _travel_account}
