"""Issue 18, Wafeq: the "lands" cells the sample expense cannot show, each read back through
Wafeq's API from the sandbox's own copy: dimensions (cost centre, project, branch) on an expense
and on the lines of a manual journal, and the bank reference of a statement transaction."""

import dataclasses
import uuid
from datetime import date
from decimal import Decimal

import pytest

from connectors.base import CatalogKind, connector_for
from connectors.entry import AccountingEntry, Dimension, EntryKind, EntryLine, LineRole
from connectors.wafeq.sandbox import testkit

pytestmark = pytest.mark.django_db


def _one_of_each(connector) -> tuple[Dimension, ...]:
    """An active cost centre, project and branch of the organisation, as Wafeq lists them."""
    values = [d for d in connector.catalog(CatalogKind.DIMENSIONS) if d.active]
    return tuple(Dimension(kind, next(d.remote_id for d in values if d.classification == kind))
                 for kind in ("cost_center", "project", "branch"))


def _read(connector, reference):
    [doc] = [d for page in connector.read_back(references=[reference]) for d in page.documents
             if d.reference == reference]
    return doc


def test_dimensions_land_on_an_expense(wafeq_server, wafeq_connection):
    connector = connector_for(wafeq_connection)
    dims = _one_of_each(connector)
    sample = testkit.sample_entry(wafeq_server, wafeq_connection, "EXPENSICO-exp_dims-v1")
    entry = dataclasses.replace(sample, lines=(dataclasses.replace(sample.lines[0], dimensions=dims), sample.lines[1]))
    result = connector.push(entry, str(uuid.uuid4()))
    assert result.external_id.startswith("exp_")
    doc = _read(connector, entry.reference)
    [expense] = [line for line in doc.lines if line.debit]
    assert set(expense.dimensions) == {(d.kind, d.remote_id) for d in dims}


def test_dimensions_land_on_each_line_of_a_manual_journal(wafeq_server, wafeq_connection):
    """Two categories with their own cost centres: a manual journal, each line keeping its own."""
    connector = connector_for(wafeq_connection)
    centres = [d.remote_id for d in connector.catalog(CatalogKind.DIMENSIONS)
               if d.classification == "cost_center" and d.active][:2]
    assert len(centres) == 2, "the sandbox seeds two active cost centres"
    expense = [a["id"] for a in wafeq_server.app.store["accounts"].values() if a["classification"] == "EXPENSE"][:2]
    entry = AccountingEntry(
        kind=EntryKind.EXPENSE, reference="EXPENSICO-exp_dims2-v1", date=date(2026, 11, 4), currency="SAR",
        description="Two categories, two cost centres", lines=(
            EntryLine(role=LineRole.EXPENSE, account=expense[0], debit=Decimal("60.00"),
                      dimensions=(Dimension("cost_center", centres[0]),)),
            EntryLine(role=LineRole.EXPENSE, account=expense[1], debit=Decimal("40.00"),
                      dimensions=(Dimension("cost_center", centres[1]),)),
            EntryLine(role=LineRole.PAID_THROUGH, account=wafeq_connection.employee_claims_account,
                      credit=Decimal("100.00"))))
    assert connector.push(entry, str(uuid.uuid4())).external_id.startswith("mj_")
    doc = _read(connector, entry.reference)
    held = {line.account: line.dimensions for line in doc.lines if line.debit}
    assert held == {expense[0]: (("cost_center", centres[0]),), expense[1]: (("cost_center", centres[1]),)}


def test_the_bank_reference_lands_on_a_statement_transaction(wafeq_connection):
    connector = connector_for(wafeq_connection)
    bank = wafeq_connection.funding_bank_account
    entry = AccountingEntry(kind=EntryKind.STATEMENT_TRANSACTION, reference="EXPENSICO-st_ref-v1", date=date(2026, 11, 3),
                            currency="SAR", lines=(), amount=Decimal("-250.00"), bank_reference="FT26310ABC77",
                            bank_account=bank, extra=(("statement_balance", "49750.00"),))
    result = connector.push(entry, str(uuid.uuid4()))
    # Read back through the API (statement lines are a bank feed, not a ledger document).
    rows = connector.client.list_all(f"/bank-accounts/{bank}/statement-transactions/")
    [row] = [r for r in rows if r["id"] == result.external_id]
    assert (row["bank_reference"], row["reference"], Decimal(str(row["amount"]))) == \
        ("FT26310ABC77", entry.reference, Decimal("-250.00"))
