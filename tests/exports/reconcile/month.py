"""A month of Expensico activity delivered through the real mirror, then exported by the worker."""

from exports.services.worker import records_work_due

from ..conftest import approve, deliver, expense

EMPLOYEE = {"id": "emp_1", "name": "Noura"}
CARD = {"id": "card_1", "last4": "4242"}


def fund(org, fid, amount, *, currency="SAR", on="2026-11-01", out=False, bank_reference=""):
    deliver(org, "card.unloaded" if out else "card.funded", {"funding": {
        "id": fid, "card": CARD, "employee": EMPLOYEE, "amount": amount, "currency": currency, "date": on,
        "bank_reference": bank_reference or f"TRX-{fid}", "description": ""}})


def reimburse(org, rid, amount, *, currency="SAR", on="2026-11-04"):
    deliver(org, "reimbursement.paid", {"reimbursement": {
        "id": rid, "employee": EMPLOYEE, "report_ids": [], "amount": amount, "currency": currency, "date": on,
        "bank_reference": f"TRX-{rid}", "description": ""}})


def card_spend(eid, amount, **over):
    return expense(eid, amount=amount, funding_source="card", card=CARD, **over)


def statement(org, lines, *, currency="SAR"):
    deliver(org, "bank_statement.published", {
        "bank_account": {"id": "ba_1", "name": "Funding", "currency": currency, "iban": ""},
        "lines": [{"id": lid, "date": on, "amount": amount, "balance": "0", "description": "",
                   "reference": "", "bank_reference": ref} for lid, on, amount, ref in lines]})


def claims_and_card_month(org):
    """What every vendor books (some take expenses only): two claims and a card spend."""
    approve(org, expense("exp_1", amount="115.00"), expense("exp_2", amount="40.00", category="MEALS"),
            card_spend("exp_3", "60.50"))
    export_all()


def a_month(org):
    """Claims, card spend, a refund, a funding, an unload and a reimbursement in November 2026."""
    approve(org, expense("exp_1", amount="115.00"), expense("exp_2", amount="40.00", category="MEALS"),
            card_spend("exp_3", "60.50"), card_spend("exp_4", "-10.00"))
    fund(org, "fnd_1", "500.00")
    fund(org, "fnd_2", "50.00", out=True)
    reimburse(org, "rmb_1", "155.00")
    export_all()


def export_all():
    return records_work_due(limit=1000)
