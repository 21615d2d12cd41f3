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


def copy_document(server, external_id: str, reference: str, on) -> str:
    """bench/reconcile.py's set-up: the expense or manual journal `external_id` (pushed once
    through the connector) copied in the sandbox's books under `reference` and dated `on` (a
    date), posted as the original was (a posted expense's bank ledger transaction too); no
    request is made. The copy's id."""
    from ...sandboxing.copies import relabelled
    from .server import new_id

    app = server.app
    with app.lock:
        name = next(n for n in ("expenses", "manual-journals") if external_id in app.store[n])
        template = app.store[name][external_id]
        row = relabelled(template, {template["reference"]: reference, template["date"]: on.isoformat()})
        row["id"] = new_id(external_id.split("_", 1)[0])
        for line in row.get("line_items") or []:
            line.update(id=new_id("mjli"), manual_journal=row["id"])
        app.store[name][row["id"]] = row
        if name == "expenses" and row.get("status") == "POSTED":
            app._post(row)
        return row["id"]
