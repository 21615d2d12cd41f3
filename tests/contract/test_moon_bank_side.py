"""Moon ERP has no journal or bank-transaction API (vendor-apis/moon-erp.md): card fundings,
unloads and reimbursements are marked "not supported by this system" — visible on the record,
never sent, and outside the month's sync rate rather than failures."""

from datetime import date
from decimal import Decimal

import pytest

from connectors.entry import AccountingEntry, EntryKind, EntryLine, LineRole
from connectors.models import CallLog
from exports.metrics import Period, month_metrics
from exports.models import ExportRecord, ReviewItem
from exports.services import gates
from exports.transitions import Status

from .test_preflight import _work

pytestmark = pytest.mark.django_db


@pytest.fixture
def system():
    return "moon_erp"


def test_a_reimbursement_is_marked_not_supported_and_not_sent(connection, kit, sandbox, monkeypatch):
    entry = AccountingEntry(
        kind=EntryKind.LEDGER_BANK_TRANSACTION, reference="EXPENSICO-rmb_1-v1", date=date(2026, 11, 5),
        currency="SAR", bank_account=connection.funding_bank_account,
        lines=(EntryLine(role=LineRole.BANK, account=connection.funding_bank_account, credit=Decimal("100.00")),
               EntryLine(role=LineRole.COUNTERPART, account=connection.employee_claims_account, debit=Decimal("100.00"))))
    before = CallLog.objects.filter(connection=connection).count()
    record = _work(connection, entry, monkeypatch)
    ExportRecord.objects.filter(pk=record.pk).update(document_date=date(2026, 11, 5))
    assert record.status == Status.CANCELLED and record.vendor_status == gates.UNSUPPORTED
    assert record.last_error.startswith("not supported by this system (Moon ERP)")
    assert CallLog.objects.filter(connection=connection).count() == before      # nothing was sent
    assert not ReviewItem.objects.filter(record=record).exists()                # not a failure to look at
    metrics = month_metrics(connection.organization, Period.parse("2026-11", date(2026, 12, 6)))
    assert metrics["systems"]["moon_erp"] == {"documents": 0, "exported": 0, "not_supported": 1, "sync_rate": None}

