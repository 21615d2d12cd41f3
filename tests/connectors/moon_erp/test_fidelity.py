"""Issue 18, Moon ERP: a foreign claim books by default, converted to the company currency at
Expensico's rate, its original kept in the notes; read back from the sandbox's own copy."""

import uuid
from datetime import date
from decimal import Decimal

import pytest

from connectors.base import connector_for
from connectors.moon_erp import schema
from connectors.moon_erp.sandbox import testkit
from expensico_sync.core.services import organization_create
from mappings.documents import ExpenseDocument
from mappings.resolve import resolve
from mappings.settings import ConnectionSettings
from mappings.snapshot import CategoryRule, MappingSnapshot

pytestmark = pytest.mark.django_db


def test_a_foreign_claim_books_converted_with_the_original_in_the_notes():
    server = testkit.start_sandbox()
    try:
        org = organization_create(slug="moonfx", name="Moon FX", base_currency="SAR", country="SA")
        conn = testkit.connect(server, org)
        assert not conn.settings.get("base_currency_amounts")
        snapshot = MappingSnapshot(version="v~1", base_currency="SAR", categories={
            ("MEALS", "", ""): CategoryRule(schema.category_remote_id(testkit.MEALS_CATEGORY))})
        doc = ExpenseDocument(source_id="exp_kwd", version=1, type="expense", date=date(2026, 11, 1),
                              amount=Decimal("10.000"), currency="KWD", category_code="MEALS",
                              funding_source="reimbursable", description="Dinner",
                              exchange_rate=Decimal("12.2345"), report_currency="SAR")
        entry = resolve(doc, snapshot, ConnectionSettings.from_connection(conn))
        connector_for(conn).push(entry, str(uuid.uuid4()))
        (held,) = testkit.held(server, entry.reference)
        assert Decimal(str(held["total_amount"])) == Decimal("122.35")
        assert "Original: KWD 10.000 at 12.2345" in held["notes"]
    finally:
        server.stop()
