"""What counts as "this push may be a re-send": only earlier POSTs that may have reached Apideck."""

import uuid

import pytest

from connectors.apideck.sandbox import testkit
from connectors.base import connector_for
from connectors.errors import Permanent
from connectors.models import CallLog

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("rejection", ["downstream_422", "unknown_account_400"])
def test_expense_mode_rejected_then_fixed_retry_exports_exactly_once(apideck_server, org, rejection):
    conn = testkit.connect(apideck_server, org, name="expense mode", document="expense")
    reference, key = "EXPENSICO-x3-v1", str(uuid.uuid4())
    entry = testkit.sample_entry(apideck_server, conn, reference)
    if rejection == "downstream_422":
        # Workday's refusal, proxied through by Apideck as a 422 ConnectorExecutionError.
        apideck_server.app.inject("server_error", count=1, method="POST", path="/accounting/expenses", status=422)
        first = entry
    else:
        first, _ = testkit.invalid_entry(apideck_server, conn, reference)
    with pytest.raises(Permanent):
        connector_for(conn).push(first, key)
    assert not testkit.held(apideck_server, reference)

    # A person fixes the mapping (or Workday's side) and retries the same export record.
    result = connector_for(conn).push(entry, key)
    assert not result.replayed and result.calls == 1
    [expense] = testkit.held(apideck_server, reference)
    assert expense["id"] == result.external_id
    assert [s for s, in CallLog.objects.filter(idempotency_key=key).order_by("id").values_list("status")] == [
        422 if rejection == "downstream_422" else 400, 201]


def test_expense_mode_after_a_5xx_still_refuses_to_resend_blindly(apideck_server, org):
    """A 5xx may have booked it downstream: that earlier POST still counts."""
    conn = testkit.connect(apideck_server, org, name="expense mode", document="expense")
    entry = testkit.sample_entry(apideck_server, conn, "EXPENSICO-x4-v1")
    apideck_server.app.inject("server_error", count=1, method="POST", path="/accounting/expenses", status=502)
    k = str(uuid.uuid4())
    with pytest.raises(Permanent) as exc:
        connector_for(conn).push(entry, k)
    assert exc.value.code == "unverifiable_resend"
    with pytest.raises(Permanent) as exc:
        connector_for(conn).push(entry, k)
    assert exc.value.code == "unverifiable_resend"
    assert CallLog.objects.filter(method="POST", idempotency_key=k).count() == 1


def test_journal_mode_after_a_4xx_sends_without_a_lookup(apideck_connection, apideck_server):
    reference, key = "EXPENSICO-j5-v1", str(uuid.uuid4())
    bad, _ = testkit.invalid_entry(apideck_server, apideck_connection, reference)
    with pytest.raises(Permanent):
        connector_for(apideck_connection).push(bad, key)
    result = connector_for(apideck_connection).push(testkit.sample_entry(apideck_server, apideck_connection, reference),
                                                    key)
    assert result.calls == 1, "a refused POST booked nothing: no lookup is needed"
    assert len(testkit.held(apideck_server, reference)) == 1
