"""What bench/export.py needs of Apideck (the fields of `bench.systems.System`). Loads no Django:
the benchmark reads it before setting Django up; the hooks run inside the sandbox process."""


def _travel_account(server) -> str:
    from ..schema import encode_account_id

    return encode_account_id("6100", "Standard")


PROFILE = {"limit": None, "limit_note": "none of Apideck's own", "travel_account": _travel_account,
           "settings": {"default_cost_center": "CC100"}}
