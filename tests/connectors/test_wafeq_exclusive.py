"""A tax-exclusive expense reaches Wafeq as its net, TAX_EXCLUSIVE, and what Wafeq holds still
totals the source's gross: read back and as the chaos bench counts it (issue 18 items 0 and 1)."""

import dataclasses
import uuid
from decimal import Decimal

import pytest

from connectors.base import connector_for
from connectors.fidelity import exclusive_tax
from connectors.wafeq.sandbox import bench, testkit

pytestmark = pytest.mark.django_db


def test_an_exclusive_expense_is_held_exclusive_with_the_same_gross(wafeq_connection, wafeq_server):
    entry = exclusive_tax(testkit.sample_entry(wafeq_server, wafeq_connection, "EXPENSICO-exc-v1"))
    connector = connector_for(wafeq_connection)
    connector.push(entry, str(uuid.uuid4()))
    [held] = [d for d in wafeq_server.app.documents("expenses") if d["reference"] == entry.reference]
    assert (held["tax_amount_type"], Decimal(str(held["amount"]))) == ("TAX_EXCLUSIVE", Decimal("100.00"))
    [doc] = [d for page in connector.read_back(references=[entry.reference]) for d in page.documents]
    assert (doc.amount, doc.lines[0].tax_amount) == (Decimal("115.00"), Decimal("15.00"))
    assert bench._booked(wafeq_server)[entry.reference] == [("SAR", Decimal("115.00"))]


def test_an_exclusive_expense_whose_vat_wafeq_would_recompute_goes_inclusive(wafeq_connection, wafeq_server):
    sample = testkit.sample_entry(wafeq_server, wafeq_connection, "EXPENSICO-exc-v2")
    odd = dataclasses.replace(sample, lines=(dataclasses.replace(sample.lines[0], tax_amount=Decimal("15.01")),
                                             sample.lines[1]))
    connector_for(wafeq_connection).push(exclusive_tax(odd), str(uuid.uuid4()))
    [held] = [d for d in wafeq_server.app.documents("expenses") if d["reference"] == odd.reference]
    assert (held["tax_amount_type"], Decimal(str(held["amount"]))) == ("TAX_INCLUSIVE", Decimal("115.00"))


@pytest.mark.parametrize("tax_sign", [1, -1])
def test_an_exclusive_refund_is_held_as_its_negative_net_with_the_same_gross(wafeq_connection, wafeq_server, tax_sign):
    # The chaos run (seed 2026) found refunds booked at gross + 2×VAT: the net was taken away from
    # a negative amount instead of added. Whichever sign the line's tax amount carries.
    sample = testkit.sample_entry(wafeq_server, wafeq_connection, f"EXPENSICO-exc-refund{tax_sign}-v1")
    cost, paid = sample.lines
    refund = dataclasses.replace(sample, lines=(
        dataclasses.replace(cost, debit=cost.credit, credit=cost.debit, tax_amount=tax_sign * cost.tax_amount),
        dataclasses.replace(paid, debit=paid.credit, credit=paid.debit)))
    assert refund.lines[1].net == Decimal("115.00")
    connector_for(wafeq_connection).push(exclusive_tax(refund), str(uuid.uuid4()))
    [held] = [d for d in wafeq_server.app.documents("expenses") if d["reference"] == refund.reference]
    assert (held["tax_amount_type"], Decimal(str(held["amount"]))) == ("TAX_EXCLUSIVE", Decimal("-100.00"))
    assert bench._booked(wafeq_server)[refund.reference] == [("SAR", Decimal("-115.00"))]
