"""Workday journals read back (Connector.read_back): `Get_Journals` by accounting dates for the
connection's company, or by `Accounting_Journal_ID`, at the XSD's largest page (`Count` 999).
Pure conversions from zeep's answer objects; the connector sends and pages. Read-back asks for the
journals' Attachment_Data (Response_Group), so each document names its receipts and their SHA-256.

A journal's reference is its `Accounting_Journal_ID` (ours, unique under Add_Only) or, for one made
without that id, its `External_Reference_ID`; a journal typed in Workday has neither.
"""

from decimal import Decimal

from ..base import VendorDocument, VendorLine
from . import attachments, schema

REVERSAL_SUFFIX = "-R"   # the export engine's reversal reference: <reference>-R
PAGE_SIZE = 999          # Get_Journals Response_Filter/Count: 1–999
STATUS = {"Posted": "posted", "Draft": "draft", "Submitted": "draft", "Canceled": "cancelled"}


def _id(ref, id_type: str) -> str:
    for item in (ref.ID if ref is not None else None) or []:
        if item.type == id_type:
            return item._value_1
    return ""


def reversal_reference(data) -> str:
    """A journal Workday made by reversing one of ours carries no id of ours: it is known as the
    original's reference + "-R", through Cancel_Reverses_Journal_Entry_Reference."""
    original = _id(data.Cancel_Reverses_Journal_Entry_Reference, "Accounting_Journal_ID")
    return original + REVERSAL_SUFFIX if original else ""


def by_dates(company: str, date_from, date_to, *, version: str, files: bool = False) -> dict:
    """A range read (a month's reconciliation, the copies check) leaves the receipts' bytes out:
    they would multiply what a month's read downloads; a read by reference carries them."""
    criteria = {"Organization_Reference": [{"ID": [{"_value_1": company, "type": "Company_Reference_ID"}]}]}
    if date_from:
        criteria["Accounting_From_Date"] = date_from
    if date_to:
        criteria["Accounting_To_Date"] = date_to
    return {"version": version, "Request_Criteria": criteria, **group(files)}


def group(files: bool) -> dict:
    """Get_Journals' Response_Group: the journals' Attachment_Data (receipts) when `files`; a
    lookup that only needs ids and status leaves them out."""
    return {"Response_Group": {"Include_Attachment_Data": True}} if files else {}


def _line(line) -> VendorLine:
    ref = line.Ledger_Account_Reference
    account = next((i for i in ref.ID if i.type == "Ledger_Account_ID"), None)
    tags = tuple(sorted((f"worktag:{i.type}", i._value_1) for tag in line.Worktags_Reference or [] for i in tag.ID))
    return VendorLine(account=schema.account_id(account.parent_id, account._value_1),
                      # In the company's currency: a foreign line's own amount is in its Currency_Reference.
                      debit=Decimal(_ledger(line, "Debit")), credit=Decimal(_ledger(line, "Credit")),
                      description=line.Memo or "", dimensions=tags)


def _ledger(line, side: str):
    return getattr(line, f"Ledger_{side}_Amount", None) or getattr(line, f"{side}_Amount") or 0


def line_rates(data) -> tuple[tuple[str, Decimal], ...]:
    """(currency, Currency_Rate) of each line in another currency than the journal's."""
    return tuple((_id(line.Currency_Reference, "Currency_ID"), Decimal(line.Currency_Rate))
                 for line in data.Journal_Entry_Line_Data or [] if getattr(line, "Currency_Rate", None))


def document(journal) -> VendorDocument:
    data = journal.Journal_Entry_Data[0]
    status = _id(data.Journal_Status_Reference, "Journal_Entry_Status_ID")
    return VendorDocument(
        reference=_id(journal.Journal_Entry_Reference, "Accounting_Journal_ID") or data.External_Reference_ID
        or reversal_reference(data),
        external_id=_id(journal.Journal_Entry_Reference, "WID"), date=data.Accounting_Date,
        currency=_id(data.Currency_Reference, "Currency_ID"), amount=Decimal(data.Total_Ledger_Debits or 0),
        status=STATUS.get(status, status.lower()), lines=tuple(_line(line) for line in data.Journal_Entry_Line_Data or []),
        memo=data.Memo or "",
        raw={"journal_number": data.Journal_Number, "status": status, "company": _id(data.Company_Reference,
                                                                                     "Company_Reference_ID"),
             "journal_source": _id(data.Journal_Source_Reference, "Journal_Source_ID"),
             "line_rates": line_rates(data),
             "attachments": attachments.held(data),   # (file name, SHA-256 of the content)
             "reverses": _id(data.Cancel_Reverses_Journal_Entry_Reference, "WID"),
             "reversed_by": _id(data.Cancel_Reversed_By_Journal_Entry_Reference, "WID")})
