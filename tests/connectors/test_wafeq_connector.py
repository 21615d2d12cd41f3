"""Wafeq specifics beyond the contract: bank side, manual journals, receipts, catalogs."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from connectors.base import CatalogKind, connector_for
from connectors.entry import AccountingEntry, Attachment, EntryKind, EntryLine, LineRole
from connectors.errors import Permanent
from connectors.wafeq.sandbox import testkit

pytestmark = pytest.mark.django_db


def key():
    return str(uuid.uuid4())


def test_setup_created_accounts_with_the_documented_shape(wafeq_connection, wafeq_server):
    accounts = wafeq_server.app.store["accounts"]
    claims = accounts[wafeq_connection.employee_claims_account]
    balance = accounts[wafeq_connection.employees_balance_account]
    assert (claims["name_en"], claims["classification"], claims["sub_classification"], claims["is_payment_enabled"]) == \
        ("Expensico – Employee Claims", "LIABILITY", "CURRENT_LIABILITY", True)
    assert (balance["name_en"], balance["classification"], balance["sub_classification"], balance["is_payment_enabled"]) \
        == ("Expensico – Employees Balance", "ASSET", "CURRENT_ASSET", True)
    bank = wafeq_server.app.store["bank-accounts"][wafeq_connection.funding_bank_account]
    assert bank["name"] == "Expensico Bank Account"
    assert wafeq_connection.settings["funding_bank_gl_account"] == bank["account"]
    assert len(wafeq_connection.settings["expense_accounts"]) == 8


def test_rerunning_setup_creates_nothing(wafeq_connection, wafeq_server):
    from connectors.services import connection_setup_run
    counts = {k: len(v) for k, v in wafeq_server.app.store.items()}
    connection_setup_run(connection=wafeq_connection)
    connection_setup_run(connection=wafeq_connection)
    assert {k: len(v) for k, v in wafeq_server.app.store.items()} == counts


def test_existing_account_not_payment_enabled_is_enabled_not_duplicated(wafeq_connection, wafeq_server):
    from connectors.base import AccountPurpose, AccountSpec
    row = wafeq_server.app.store["accounts"][wafeq_connection.employee_claims_account]
    row["is_payment_enabled"] = False
    item = connector_for(wafeq_connection).ensure_account(
        AccountSpec(purpose=AccountPurpose.EMPLOYEE_CLAIMS, name="Expensico – Employee Claims"))
    assert item.remote_id == row["id"] and row["is_payment_enabled"] is True


def test_expense_accounts_filter_and_dimensions(wafeq_connection):
    connector = connector_for(wafeq_connection)
    assert {i.classification for i in connector.expense_accounts()} == {"EXPENSE"}
    kinds = {i.classification for i in connector.catalog(CatalogKind.DIMENSIONS)}
    assert kinds == {"cost_center", "project", "branch"}
    assert [c.code for c in connector.catalog(CatalogKind.CURRENCIES)] == ["SAR"]


def test_receipts_are_uploaded_and_attached(wafeq_connection, wafeq_server, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(tmp_path)}}}
    path = default_storage.save("receipts/r1.pdf", ContentFile(b"%PDF-1.4 receipt"))
    base = testkit.sample_entry(wafeq_server, wafeq_connection, "EXPENSICO-att-v1")
    entry = AccountingEntry(kind=base.kind, reference=base.reference, date=base.date, currency="SAR", lines=base.lines,
                            attachments=(Attachment("att1", "r1.pdf", "application/pdf", "x", 16, path),
                                         Attachment("att2", "missing.pdf", "application/pdf", "y")))
    result = connector_for(wafeq_connection).push(entry, key())
    expense = wafeq_server.app.store["expenses"][result.external_id]
    assert len(expense["attachments"]) == 1
    assert wafeq_server.app.store["files"][expense["attachments"][0]]["original_filename"] == "r1.pdf"
    assert result.warnings and result.calls == 2


def test_multi_category_entry_goes_in_as_manual_journal(wafeq_connection, wafeq_server):
    accounts = [a["id"] for a in wafeq_server.app.store["accounts"].values() if a["classification"] == "EXPENSE"]
    entry = AccountingEntry(kind=EntryKind.EXPENSE, reference="EXPENSICO-mj-v1", date=date(2026, 11, 2), currency="SAR",
                            lines=(EntryLine(role=LineRole.EXPENSE, account=accounts[0], debit=Decimal("60.00")),
                                   EntryLine(role=LineRole.EXPENSE, account=accounts[1], debit=Decimal("40.00")),
                                   EntryLine(role=LineRole.PAID_THROUGH, account=wafeq_connection.employee_claims_account,
                                             credit=Decimal("100.00"))))
    connector = connector_for(wafeq_connection)
    result = connector.push(entry, key())
    assert result.external_id.startswith("mj_")
    assert connector.find_by_reference(["EXPENSICO-mj-v1"])["EXPENSICO-mj-v1"].external_id == result.external_id
    connector.reverse(result.external_id, testkit.reversal_entry(entry), key())
    assert not wafeq_server.app.store["manual-journals"]


def test_card_top_up_is_a_ledger_bank_transaction(wafeq_connection, wafeq_server):
    entry = AccountingEntry(
        kind=EntryKind.LEDGER_BANK_TRANSACTION, reference="EXPENSICO-fund-1-v1", date=date(2026, 11, 3), currency="SAR",
        amount=Decimal("-1000.00"), description="Card funding",
        lines=(EntryLine(role=LineRole.COUNTERPART, account=wafeq_connection.employees_balance_account,
                         debit=Decimal("1000.00")),
               EntryLine(role=LineRole.BANK, account=wafeq_connection.settings["funding_bank_gl_account"],
                         credit=Decimal("1000.00"))))
    connector = connector_for(wafeq_connection)
    result = connector.push(entry, key())
    tx = wafeq_server.app.store["ledger-transactions"][result.external_id]
    assert (tx["bank_account"], tx["account"], tx["amount"], tx["is_manual"]) == \
        (wafeq_connection.funding_bank_account, wafeq_connection.employees_balance_account, -1000.0, True)
    assert connector.find_by_reference([entry.reference])[entry.reference].external_id == result.external_id
    connector.reverse(result.external_id, testkit.reversal_entry(entry), key())
    assert result.external_id not in wafeq_server.app.store["ledger-transactions"]


def test_statement_transaction(wafeq_connection, wafeq_server):
    entry = AccountingEntry(kind=EntryKind.STATEMENT_TRANSACTION, reference="EXPENSICO-st-1-v1", date=date(2026, 11, 3),
                            currency="SAR", lines=(), amount=Decimal("-1000.00"), bank_reference="FT-99",
                            bank_account=wafeq_connection.funding_bank_account,
                            extra=(("statement_balance", "49000.00"),))
    result = connector_for(wafeq_connection).push(entry, key())
    row = wafeq_server.app.store["statement-transactions"][result.external_id]
    assert row["bank_reference"] == "FT-99" and row["statement_balance"] == 49000.0


def test_unsupported_entry_is_permanent(wafeq_connection):
    entry = AccountingEntry(kind=EntryKind.STATEMENT_TRANSACTION, reference="EXPENSICO-st-2-v1", date=date(2026, 11, 3),
                            currency="SAR", lines=(), amount=Decimal("1.00"), bank_account="ba_x")
    with pytest.raises(Permanent) as exc:
        connector_for(wafeq_connection).push(entry, key())
    assert exc.value.field == "statement_balance"


def test_paid_through_must_be_payment_enabled(wafeq_connection, wafeq_server):
    not_enabled = next(a["id"] for a in wafeq_server.app.store["accounts"].values() if a["account_code"] == "2010")
    base = testkit.sample_entry(wafeq_server, wafeq_connection, "EXPENSICO-pe-v1")
    entry = AccountingEntry(kind=base.kind, reference=base.reference, date=base.date, currency="SAR",
                            lines=(base.lines[0], EntryLine(role=LineRole.PAID_THROUGH, account=not_enabled,
                                                            credit=base.lines[1].credit)))
    with pytest.raises(Permanent) as exc:
        connector_for(wafeq_connection).push(entry, key())
    assert exc.value.field == "paid_through_account"


def test_a_list_longer_than_the_page_cap_is_a_permanent_error_a_person_sees(wafeq_connection, monkeypatch):
    """Retrying never shortens a ledger: past the cap it is a review item saying so, not a crash."""
    from connectors.wafeq import client as wafeq_client
    monkeypatch.setattr(wafeq_client, "MAX_PAGES", 0)
    with pytest.raises(Permanent) as exc:
        connector_for(wafeq_connection).catalog(CatalogKind.ACCOUNTS)
    assert exc.value.code == "too_many_pages"
