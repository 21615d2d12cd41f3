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


def copy_document(server, external_id: str, reference: str, on) -> str:
    """bench/reconcile.py's set-up: the general journal document `external_id` ("GJ:<number>",
    pushed once through the connector) copied in the sandbox's books, its journal lines and posted
    G/L entries alike, under `reference` (BC's ≤20-character number for it) and dated `on` (a
    date); no request is made. The copy's external id."""
    from ...sandboxing.copies import relabelled
    from ..schema import short_reference
    from .store import new_id

    app = server.app
    kind, _, number = external_id.partition(":")
    assert kind == "GJ", f"copy_document copies general journal documents, not {external_id}"
    new_number = short_reference(reference)
    with app.lock:
        for entity in ("journalLines", "generalLedgerEntries"):
            rows = app.sets[entity]
            templates = [r for r in rows.values() if r["documentNumber"] == number]
            for template in templates:
                # The number (documentNumber, externalDocumentNumber) first, then our full
                # reference where a line carries it (`comment`), then the date.
                swaps = {number: new_number, template.get("comment") or "": reference,
                         template["postingDate"]: on.isoformat()}
                row = relabelled(template, swaps)
                row["id"] = new_id()
                if entity == "generalLedgerEntries":
                    row["entryNumber"] = len(rows) + 1
                rows[row["id"]] = row
        return f"GJ:{new_number}"
