"""What the Apideck connector refuses is refused in the taxonomy, with a field a person can act on."""

import uuid

import pytest

from connectors.apideck import client as apideck_client
from connectors.apideck.sandbox import testkit
from connectors.base import CatalogKind, connector_for
from connectors.entry import AccountingEntry, Dimension, EntryLine
from connectors.errors import Permanent
from connectors.models import CallLog

pytestmark = pytest.mark.django_db


def test_more_pages_than_the_cap_is_a_permanent_error(apideck_connection, monkeypatch):
    monkeypatch.setattr(apideck_client, "PAGE_SIZE", 2)
    monkeypatch.setattr(apideck_client, "MAX_PAGES", 2)
    with pytest.raises(Permanent) as exc:
        connector_for(apideck_connection).catalog(CatalogKind.ACCOUNTS)
    assert exc.value.code == "too_many_pages" and "/accounting/ledger-accounts" in exc.value.message
    assert CallLog.objects.filter(path__startswith="/accounting/ledger-accounts?").count() >= 2


@pytest.mark.parametrize("document", ["journal_entry", "expense"])
def test_a_dimension_workday_cannot_carry_is_refused_before_sending(apideck_server, org, document):
    conn = testkit.connect(apideck_server, org, name=f"{document} mode", document=document)
    entry = testkit.sample_entry(apideck_server, conn, "EXPENSICO-dm1-v1")
    expense, paid = entry.lines
    with_branch = EntryLine(role=expense.role, account=expense.account, debit=expense.debit,
                            dimensions=(*expense.dimensions, Dimension(kind="branch", remote_id="BR-RUH")))
    posts = CallLog.objects.filter(method="POST").count()
    with pytest.raises(Permanent) as exc:
        connector_for(conn).push(AccountingEntry(kind=entry.kind, reference=entry.reference, date=entry.date,
                                                 currency=entry.currency, description=entry.description,
                                                 lines=(with_branch, paid)), str(uuid.uuid4()))
    assert exc.value.code == "unsupported_dimension" and exc.value.field == "dimensions.branch"
    assert CallLog.objects.filter(method="POST").count() == posts
    assert not testkit.held(apideck_server, "EXPENSICO-dm1-v1")
