"""Issue 18, Xledger: what Expensico sends arrives, read back from the sandbox's own copy."""

import uuid
from datetime import date
from decimal import Decimal

import pytest

from connectors.base import connector_for
from connectors.xledger.sandbox import testkit
from expensico_sync.core.services import organization_create
from mappings.documents import ExpenseDocument, FundingDocument, ReimbursementDocument
from mappings.resolve import resolve
from mappings.settings import ConnectionSettings
from mappings.snapshot import CategoryRule, MappingSnapshot

pytestmark = pytest.mark.django_db


def _dbid(server, table: str, code: str) -> str:
    return next(str(r["dbId"]) for r in server.app.tables[table] if r["code"] == code)


def test_card_fundings_unloads_and_reimbursements_post_to_the_funding_banks_ledger_account(xl_connection, xl_server):
    # The setup offers bank accounts for the funding role: the connection holds a bank account's dbId.
    bank = xl_connection.funding_bank_account
    assert bank in {str(r["dbId"]) for r in xl_server.app.tables["bankAccounts"]}
    ledger = next(str(r["account"]["dbId"]) for r in xl_server.app.tables["bankAccounts"] if str(r["dbId"]) == bank)
    settings = ConnectionSettings.from_connection(xl_connection)
    snapshot = MappingSnapshot(version="v~1", base_currency="SAR")
    day = date(2026, 11, 2)
    documents = [FundingDocument(source_id="fund_in", direction="in", amount=Decimal("500.00"), currency="NOK",
                                 date=day, card_last4="4242"),
                 FundingDocument(source_id="fund_out", direction="out", amount=Decimal("120.00"), currency="NOK",
                                 date=day, card_last4="4242"),
                 ReimbursementDocument(source_id="reimb_1", amount=Decimal("310.50"), currency="NOK", date=day,
                                       employee_name="Kari Nordmann")]
    connector = connector_for(xl_connection)
    for doc in documents:
        entry = resolve(doc, snapshot, settings)
        connector.push(entry, str(uuid.uuid4()))
        (voucher,) = testkit.held(xl_server, entry.reference)
        accounts = {str(row["account"]["dbId"]): Decimal(str(row["amount"])) for row in voucher["rows"]}
        assert ledger in accounts and bank not in set(accounts) - {ledger}
        assert sum(accounts.values()) == 0 and abs(accounts[ledger]) == doc.amount
        assert xl_server.app.booked(entry.reference), "the import job booked the voucher"


def test_a_foreign_claim_books_by_default_in_its_currency_with_expensicos_rate(xl_server):
    org = organization_create(slug="nor", name="Norge", base_currency="NOK", country="NO")
    conn = testkit.connect(xl_server, org)
    assert not conn.settings.get("base_currency_amounts")
    snapshot = MappingSnapshot(version="v~1", base_currency="NOK",
                               categories={("TRAVEL", "", ""): CategoryRule(_dbid(xl_server, "accounts", "7140"))})
    doc = ExpenseDocument(source_id="exp_eur", version=1, type="expense", date=date(2026, 11, 2),
                          amount=Decimal("10.00"), currency="EUR", category_code="TRAVEL",
                          funding_source="reimbursable", exchange_rate=Decimal("11.4567"), report_currency="NOK")
    entry = resolve(doc, snapshot, ConnectionSettings.from_connection(conn))
    connector_for(conn).push(entry, str(uuid.uuid4()))
    (voucher,) = testkit.held(xl_server, entry.reference)
    rows = voucher["rows"]
    assert {r["currency"]["code"] for r in rows} == {"EUR"}
    assert sorted(Decimal(str(r["invoiceAmount"])) for r in rows) == [Decimal("-10.00"), Decimal("10.00")]
    assert sorted(Decimal(str(r["amount"])) for r in rows) == [Decimal("-114.57"), Decimal("114.57")]
    assert {Decimal(str(r["exchangeRate"])) for r in rows} == {Decimal("11.4567")}
