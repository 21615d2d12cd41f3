"""What bench/export.py needs of Wafeq (the fields of `bench.systems.System`). Loads no Django:
the benchmark reads it before setting Django up; the hooks run inside the sandbox process."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Decimal


def _travel_account(server) -> str:
    from .testkit import _expense_account

    return _expense_account(server.app)


def _booked(server) -> dict[str, list[tuple[str, "Decimal"]]]:
    """Our reference → (currency, gross) of each document the sandbox holds under it: an expense's
    amount (a tax-exclusive one's plus the VAT Wafeq computes on it), a manual journal's credited
    (paid-through) side."""
    from decimal import Decimal

    from connectors.money import round_money

    rates = {r["id"]: Decimal(str(r["rate"])) for r in server.app.store["tax-rates"].values()}
    held: dict[str, list[tuple[str, Decimal]]] = {}
    for doc in server.app.documents("expenses"):
        amount = Decimal(str(doc["amount"]))
        if doc.get("tax_amount_type") == "TAX_EXCLUSIVE":
            amount += round_money(amount * rates.get(doc.get("tax_rate") or "", Decimal(0)), doc["currency"])
        held.setdefault(doc.get("reference", ""), []).append((doc["currency"], amount))
    for doc in server.app.documents("manual-journals"):
        credits = [Decimal(str(li["amount"])) for li in doc["line_items"] if Decimal(str(li["amount"])) < 0]
        held.setdefault(doc.get("reference", ""), []).append((doc["line_items"][0]["currency"],
                                                              -sum(credits, Decimal(0))))
    return held


PROFILE = {"limit": None, "limit_note": "none documented", "travel_account": _travel_account,
           "booked": _booked}
