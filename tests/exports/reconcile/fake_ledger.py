"""The exports fake vendor with read-back: its ledger is built from the entries it was sent, plus
documents changed behind our back (the same tamper verbs every vendor's testkit offers)."""

import dataclasses
import itertools
from datetime import date
from decimal import Decimal

from connectors.base import ReadBackPage, VendorDocument, VendorLine

from ..fake import FakeConnector, vendor_for

_ids = itertools.count(1)
EXTRA: dict[int, list[VendorDocument]] = {}     # connection pk -> documents made in the vendor by hand
PAGE = 3


def _document(reference: str, stored: dict) -> VendorDocument:
    entry = stored["entry"]
    lines = tuple(VendorLine(account=line.account, debit=line.debit, credit=line.credit,
                             tax_amount=line.tax_amount, tax_rate=line.tax_rate, description=line.description)
                  for line in entry.lines)
    return VendorDocument(reference=reference, external_id=stored["id"], date=entry.date, currency=entry.currency,
                          amount=entry.gross, status="posted" if stored["live"] else "cancelled", lines=lines)


class ReadBackFake(FakeConnector):
    system = "fake_rb"
    label = "Fake ledger with read-back"
    reads_back = True
    read_back_page_size = PAGE

    def read_back(self, *, date_from=None, date_to=None, references=()):
        docs = [_document(ref, stored) for ref, stored in self.vendor.documents.items()]
        docs += EXTRA.get(self.connection.pk, [])
        if references:
            docs = [d for d in docs if d.reference in set(references)]
        if date_from:
            docs = [d for d in docs if date_from <= d.date <= date_to]
        for start in range(0, len(docs), PAGE):
            yield ReadBackPage(documents=tuple(docs[start:start + PAGE]), requests=1)
        if not docs:
            yield ReadBackPage(documents=(), requests=1)


class BudgetedFake(ReadBackFake):
    system = "fake_budget"
    read_back_request_budget = 5000


def _find(connection, external_id):
    for ref, stored in vendor_for(connection).documents.items():
        if stored["id"] == external_id:
            return ref, stored
    raise LookupError(external_id)


def tamper_delete(connection, external_id):
    ref, _ = _find(connection, external_id)
    del vendor_for(connection).documents[ref]


def tamper_edit_amount(connection, external_id, new_amount: Decimal):
    _, stored = _find(connection, external_id)
    entry = stored["entry"]
    factor = new_amount / entry.gross
    lines = tuple(dataclasses.replace(line, debit=(line.debit * factor).quantize(line.debit),
                                      credit=(line.credit * factor).quantize(line.credit)) for line in entry.lines)
    stored["entry"] = dataclasses.replace(entry, lines=lines)


def tamper_duplicate(connection, external_id) -> str:
    ref, stored = _find(connection, external_id)
    copy = dataclasses.replace(_document(ref, stored), external_id=f"dup-{next(_ids)}")
    EXTRA.setdefault(connection.pk, []).append(copy)
    return copy.external_id


def tamper_manual_post(connection, account: str, amount: Decimal, on: date, currency: str) -> str:
    doc = VendorDocument(reference="", external_id=f"manual-{next(_ids)}", date=on, currency=currency, amount=amount,
                         status="posted", memo="manual journal",
                         lines=(VendorLine(account=account, debit=amount), VendorLine(account="suspense", credit=amount)))
    EXTRA.setdefault(connection.pk, []).append(doc)
    return doc.external_id
