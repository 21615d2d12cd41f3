"""What bench/export.py needs of Business Central (the fields of `bench.systems.System`). Loads no
Django: the benchmark reads it before setting Django up; the hooks run inside the sandbox process."""


def _books_in_sar(server) -> None:
    server.app.company["currency"] = "SAR"
    for row in server.app.sets["companyInformation"].values():
        row["currencyCode"] = "SAR"


def _travel_account(server) -> str:
    from .testkit import _account

    return _account(server, "6100")


PROFILE = {"limit": 20, "limit_note": "6,000 requests / 5 min, 5 concurrent", "prepare": _books_in_sar,
           "travel_account": _travel_account, "aliases": ("bc",), "control_scheme": "https"}
