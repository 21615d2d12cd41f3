"""Realised FX read back from a sandbox (Business Central): a GBP reimbursement of a claim spent in
KWD and booked at Expensico's rate posts the difference to the gain/loss account, and the
vendor's copy holds exactly that, balanced to the penny."""

from datetime import date
from decimal import Decimal

import pytest

from connectors.base import connector_for
from connectors.business_central.sandbox import testkit as kit
from connectors.entry import LineRole
from expensico_sync.core.services import organization_create
from mappings.documents import ExpenseDocument, ReimbursementDocument
from mappings.resolve import resolve
from mappings.settings import ConnectionSettings
from mappings.snapshot import CategoryRule, CurrencyRule, MappingSnapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def bc():
    server = kit.start_sandbox()
    yield server
    server.stop()


def test_the_gain_is_on_the_gain_loss_account_in_the_vendors_copy(bc):
    org = organization_create(slug="fx", name="FX Co", base_currency="GBP", country="GB")
    conn = kit.connect(bc, org)
    fx_account = kit._account(bc, "6140")
    snapshot = MappingSnapshot(version="v~1", base_currency="GBP",
                               categories={("TRAVEL", "", ""): CategoryRule(kit._account(bc, "6100"))},
                               currency=CurrencyRule("expensico", fx_account))
    settings = ConnectionSettings.from_connection(conn)
    claim = ExpenseDocument(source_id="exp_fx1", version=1, type="expense", date=date(2026, 11, 3),
                            amount=Decimal("100.000"), currency="KWD", category_code="TRAVEL",
                            funding_source="reimbursable", exchange_rate=Decimal("2.5915"), report_currency="GBP")
    # Booked at GBP 259.15; the bank paid GBP 258.40 a fortnight later: a gain of 0.75.
    doc = ReimbursementDocument(source_id="rmb_fx1", amount=Decimal("258.40"), currency="GBP",
                                date=date(2026, 11, 17), claims=(claim,))
    entry = resolve(doc, snapshot, settings)
    fx = [li for li in entry.lines if li.role is LineRole.FX]
    assert [(li.account, li.credit) for li in fx] == [(fx_account, Decimal("0.75"))]

    connector = connector_for(conn)
    connector.push(entry, "fx-key-1")
    held = [d for page in connector.read_back(references=[entry.reference]) for d in page.documents
            if d.reference in (entry.reference, connector.vendor_reference(entry.reference))]
    assert len(held) == 1
    lines = held[0].lines
    assert sum(li.debit for li in lines) == sum(li.credit for li in lines)
    on_fx = [li for li in lines if li.account == fx_account]
    assert [(li.debit, li.credit) for li in on_fx] == [(Decimal("0"), Decimal("0.75"))]
    claims_side = [li for li in lines if li.account == conn.employee_claims_account]
    assert sum(li.debit - li.credit for li in claims_side) == Decimal("259.15")
