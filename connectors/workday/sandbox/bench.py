"""What bench/export.py needs of Workday (the fields of `bench.systems.System`). Loads no Django:
the benchmark reads it before setting Django up; the hooks run inside the sandbox process."""


def _travel_account(server) -> str:
    return "Standard/6100"


PROFILE = {"limit": None, "limit_note": "none documented", "travel_account": _travel_account,
           "settings": {"default_cost_center": "CC100"}}
