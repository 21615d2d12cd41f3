"""Entries and switches the Business Central tests share."""

import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from connectors.business_central import schema
from connectors.business_central.sandbox import testkit
from connectors.entry import AccountingEntry, Attachment, Dimension, EntryKind, EntryLine, LineRole

RECEIPT = b"%PDF-1.7 receipt"


def key() -> str:
    return str(uuid.uuid4())


def account(server, number):
    return testkit._account(server, number)


def dim_value(server, dimension, code):
    dim = next(d for d in server.app.sets["dimensions"].values() if d["code"] == dimension)
    return next(v["id"] for v in server.app.sets["dimensionValues"].values()
                if v["dimensionId"] == dim["id"] and v["code"] == code)


def split_entry(server, conn, reference, *, bad_second=False):
    return AccountingEntry(
        kind=EntryKind.EXPENSE, reference=reference, date=date(2026, 11, 3), currency="GBP", description="Trip",
        lines=(EntryLine(role=LineRole.EXPENSE, account=account(server, "6100"), debit=Decimal("80.00"),
                         dimensions=(Dimension("dimension:DEPARTMENT", dim_value(server, "DEPARTMENT", "SALES")),)),
               EntryLine(role=LineRole.EXPENSE, account="bad-account" if bad_second else account(server, "6110"),
                         debit=Decimal("35.50")),
               EntryLine(role=LineRole.PAID_THROUGH, account=conn.employee_claims_account, credit=Decimal("115.50"))))


def vendor_entry(server, conn, reference, *, base=None):
    vendor = next(v["id"] for v in server.app.sets["vendors"].values() if v["number"] == "V0001")
    base = base or testkit.sample_entry(server, conn, reference)
    return replace(base, reference=reference, contact=vendor)


def with_receipt(entry: AccountingEntry) -> AccountingEntry:
    path = default_storage.save(f"receipts/{uuid.uuid4()}.pdf", ContentFile(RECEIPT))
    return replace(entry, attachments=(Attachment("r1", "receipt.pdf", "application/pdf", "0" * 64, len(RECEIPT),
                                                  path),))


def set_mode(conn, **settings):
    conn.settings = {**conn.settings, **settings}
    conn.save()
    return conn


def lines_of(server, reference):
    short = schema.short_reference(reference)
    return [ln for ln in server.app.sets["journalLines"].values() if ln["documentNumber"] == short]


def posted_numbers(server) -> set[str]:
    return {e["documentNumber"] for e in server.app.sets["generalLedgerEntries"].values()}


def arm_after(server, path_part: str, kind: str, *, in_body: bool = False, **fault) -> None:
    """Injects a fault once the first request whose path (or body) contains `path_part` has been
    answered: "the lines went in, then the next step fails", over the wire."""
    armed = []

    def observer(req, resp):
        if not armed and (path_part in req.path or (in_body and path_part.encode() in req.body)):
            armed.append(server.app.inject(kind, **fault))

    server.app.observers.append(observer)
