"""Our booked entry against the vendor's copy of it: the content hash and the comparison that
verification and reconciliation share. Pure: no database, no network."""

import hashlib
import json
from collections import defaultdict
from decimal import Decimal

from connectors.base import VendorDocument
from connectors.money import round_money

from ..messages import said, word

ZERO = Decimal("0")


def _num(value: Decimal) -> str:
    # "1.50" and "1.5" are the same money: the hash must not depend on how a vendor wrote it.
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def canonical_json(doc: VendorDocument) -> str:
    """The vendor's copy as canonical JSON (sorted keys, normalised numbers, lines in a fixed order)."""
    lines = sorted(
        ({"account": line.account, "debit": _num(line.debit), "credit": _num(line.credit),
          "tax_amount": _num(line.tax_amount), "tax_rate": line.tax_rate or "", "description": line.description,
          "dimensions": sorted([list(pair) for pair in line.dimensions])} for line in doc.lines),
        key=lambda line: json.dumps(line, sort_keys=True))
    body = {"reference": doc.reference, "external_id": doc.external_id, "date": doc.date.isoformat(),
            "currency": doc.currency.upper(), "amount": _num(doc.amount), "status": doc.status,
            "memo": doc.memo, "lines": lines}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(doc: VendorDocument) -> str:
    return hashlib.sha256(canonical_json(doc).encode()).hexdigest()


def entry_gross(entry: dict) -> Decimal:
    """What the paid-through (or bank) side of a stored entry moved: the document's total."""
    lines = entry.get("lines") or []
    side = [line for line in lines if line["role"] == "paid_through"] or \
        [line for line in lines if line["role"] == "bank"]
    return abs(sum((Decimal(line["debit"]) - Decimal(line["credit"]) for line in side), ZERO))


def entry_nets(entry: dict) -> dict[str, Decimal]:
    """Net debit − credit per account of a stored entry (`ExportRecord.entry_preview`)."""
    nets: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in entry.get("lines") or []:
        nets[line["account"]] += Decimal(line["debit"]) - Decimal(line["credit"])
    return {account: net for account, net in nets.items() if net}


def document_nets(doc: VendorDocument) -> dict[str, Decimal]:
    nets: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in doc.lines:
        nets[line.account] += line.debit - line.credit
    return {account: net for account, net in nets.items() if net}


def differences(entry: dict, doc: VendorDocument) -> list[str]:
    """What differs between our entry and the vendor's copy, in words; [] when they agree.

    Compared: reference, currency, date, the gross amount, and the net per account (so a line
    moved to another account, or an amount changed on one side only, is named)."""
    currency = entry["currency"]
    changes: list[str] = []
    if doc.reference != entry["reference"]:
        changes.append(said("changed_reference", before=entry["reference"], after=doc.reference or word("(none)")))
    if doc.currency.upper() != currency.upper():
        changes.append(said("changed_currency", before=currency, after=doc.currency))
    if doc.date.isoformat() != entry["date"]:
        changes.append(said("changed_date", before=entry["date"], after=doc.date.isoformat()))
    ours, theirs = entry_gross(entry), round_money(abs(doc.amount), currency)
    if ours != theirs:
        changes.append(said("changed_amount", before=ours, after=theirs))
    if doc.lines:
        mine, vendor = entry_nets(entry), document_nets(doc)
        for account in sorted(set(mine) | set(vendor)):
            a, b = mine.get(account, ZERO), vendor.get(account, ZERO)
            if a != b:
                changes.append(said("changed_account", account=account, before=a, after=b))
    if doc.status == "cancelled":
        changes.append(said("cancelled_in_vendor"))
    return changes
