"""Issue 18, Apideck (Workday): VAT mapped to the vendor's tax code arrives as code, net and tax."""

import uuid
from datetime import date
from decimal import Decimal

import pytest

from connectors.apideck.sandbox import testkit
from connectors.apideck.schema import encode_account_id
from connectors.base import connector_for
from mappings.documents import ExpenseDocument
from mappings.resolve import resolve
from mappings.settings import ConnectionSettings
from mappings.snapshot import CategoryRule, DimensionRule, MappingSnapshot, TaxRule

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("document", ["journal_entry", "expense"])
def test_vat_mapped_to_the_vendors_tax_code_is_sent_with_net_and_tax(apideck_server, apideck_connection, document):
    conn = apideck_connection
    conn.settings = {**conn.settings, "document": document}
    conn.save(update_fields=["settings"])
    snapshot = MappingSnapshot(
        version="v~1", base_currency="SAR",
        categories={("TRAVEL", "", ""): CategoryRule(encode_account_id("6100", "Standard"))},
        taxes={"VAT15": TaxRule("SA_VAT_15", "as_document", False, "")},
        dimensions={("cost_center", "CC100"): DimensionRule("worktag:Cost_Center_Reference_ID", "CC100", "Finance")})
    doc = ExpenseDocument(source_id=f"exp_{document}", version=1, type="expense", date=date(2026, 11, 1),
                          amount=Decimal("115.00"), currency="SAR", category_code="TRAVEL",
                          funding_source="reimbursable", description="Taxi", tax_code="VAT15",
                          tax_rate=Decimal("15"), tax_inclusive=True, tax_amount=Decimal("15.00"),
                          dimensions=(("cost_center", "CC100"),))
    entry = resolve(doc, snapshot, ConnectionSettings.from_connection(conn))
    connector_for(conn).push(entry, str(uuid.uuid4()))
    (held,) = testkit.held(apideck_server, entry.reference)
    (cost,) = [item for item in held["line_items"] if item.get("tax_rate")]
    assert cost["tax_rate"] == {"id": "SA_VAT_15"}
    assert Decimal(str(cost["tax_amount"])) == Decimal("15.00")
    if document == "journal_entry":
        assert Decimal(str(cost["sub_total"])) == Decimal("100.00")
    assert Decimal(str(cost["total_amount"])) == Decimal("115.00")
