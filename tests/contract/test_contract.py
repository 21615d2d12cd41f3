"""One suite, every registered connector, each against its own sandbox over real HTTP.
A new vendor passes this unchanged by shipping `connectors/<system>/sandbox/testkit.py`."""

import time
import uuid
from decimal import Decimal

import pytest
import stamina

from connectors.base import AccountPurpose, AccountSpec, CatalogKind, connector_for
from connectors.errors import AuthExpired, OutcomeUnknown, Permanent, RateLimited, UnexpectedAnswer
from connectors.models import CallLog, Connection
from connectors.services import connection_check

pytestmark = pytest.mark.django_db


def key() -> str:
    return str(uuid.uuid4())


def test_check(connection):
    result = connector_for(connection).check()
    assert result.ok and result.organization_name
    connection.refresh_from_db()
    assert connection.status == Connection.Status.CONNECTED


@pytest.mark.parametrize("kind", list(CatalogKind))
def test_catalog(connection, kind):
    items = connector_for(connection).catalog(kind)
    assert items, f"the sandbox seeds {kind}"
    assert all(i.kind == kind and i.remote_id for i in items)
    if kind == CatalogKind.ACCOUNTS:
        assert any(i.classification == "EXPENSE" for i in items)


def test_setup_saved_three_accounts(connection):
    assert connection.employee_claims_account and connection.employees_balance_account
    assert connection.funding_bank_account


def test_ensure_account_twice_creates_one(connection, kit, sandbox):
    connector = connector_for(connection)
    spec = AccountSpec(purpose=AccountPurpose.EMPLOYEE_CLAIMS, name="Contract – Claims")
    first, second = connector.ensure_account(spec), connector.ensure_account(spec)
    assert first.remote_id == second.remote_id
    named = [i for i in connector.catalog(CatalogKind.ACCOUNTS) if i.name == "Contract – Claims"]
    assert len(named) == 1
    bank_spec = AccountSpec(purpose=AccountPurpose.FUNDING_BANK, name="Contract Bank")
    assert connector.ensure_account(bank_spec).remote_id == connector.ensure_account(bank_spec).remote_id


def test_push_visible_through_find_by_reference(connection, kit, sandbox):
    entry = kit.sample_entry(sandbox, connection, "EXPENSICO-c1-v1")
    result = connector_for(connection).push(entry, key())
    found = connector_for(connection).find_by_reference(["EXPENSICO-c1-v1", "EXPENSICO-missing-v1"])
    assert set(found) == {"EXPENSICO-c1-v1"}
    assert found["EXPENSICO-c1-v1"].external_id == result.external_id
    assert Decimal(found["EXPENSICO-c1-v1"].amount) == entry.gross


def test_same_key_twice_one_document(connection, kit, sandbox):
    entry = kit.sample_entry(sandbox, connection, "EXPENSICO-c2-v1")
    k = key()
    first = connector_for(connection).push(entry, k)
    second = connector_for(connection).push(entry, k)
    assert first.external_id == second.external_id and second.replayed
    assert len(kit.held(sandbox, "EXPENSICO-c2-v1")) == 1


def test_lost_response_is_found_by_reference(connection, kit, sandbox):
    entry = kit.sample_entry(sandbox, connection, "EXPENSICO-c3-v1")
    # Every write commits and loses its answer. The connector either says so (OutcomeUnknown) or
    # resolves it itself by looking the reference up; either way nothing is booked twice.
    sandbox.app.inject("drop_after_commit", count=10, method="POST")
    try:
        result = connector_for(connection).push(entry, key())
    except OutcomeUnknown:
        result = None
    sandbox.app.clear_faults()
    found = connector_for(connection).find_by_reference(["EXPENSICO-c3-v1"])
    assert "EXPENSICO-c3-v1" in found
    if result is not None:
        assert found["EXPENSICO-c3-v1"].external_id == result.external_id
    assert len(kit.held(sandbox, "EXPENSICO-c3-v1")) == 1, "retries with one key never duplicate"


def test_lost_response_once_is_replayed(connection, kit, sandbox):
    entry = kit.sample_entry(sandbox, connection, "EXPENSICO-c4-v1")
    sandbox.app.inject("drop_after_commit", count=1, method="POST")
    result = connector_for(connection).push(entry, key())
    assert result.replayed
    assert len(kit.held(sandbox, "EXPENSICO-c4-v1")) == 1


def test_429_retry_after_is_honoured(connection, kit, sandbox):
    entry = kit.sample_entry(sandbox, connection, "EXPENSICO-c5-v1")
    sandbox.app.inject("rate_limit", count=1, method="POST", retry_after="1")
    stamina.set_testing(False)   # real sleeps: we measure that the wait happened
    try:
        started = time.monotonic()
        result = connector_for(connection).push(entry, key())
        elapsed = time.monotonic() - started
    finally:
        stamina.set_testing(True, attempts=3)
    assert result.external_id
    assert elapsed >= 1.0, f"Retry-After: 1 was not honoured ({elapsed:.2f}s)"
    statuses = list(CallLog.objects.filter(connection=connection).order_by("id").values_list("status", flat=True))
    assert 429 in statuses and 200 <= statuses[-1] < 300


def test_429_without_retry_after_backs_off_and_retries(connection, kit, sandbox):
    entry = kit.sample_entry(sandbox, connection, "EXPENSICO-c6-v1")
    sandbox.app.inject("rate_limit", count=2, method="POST")
    assert connector_for(connection).push(entry, key()).external_id


def test_long_retry_after_is_left_to_the_caller(connection, kit, sandbox):
    entry = kit.sample_entry(sandbox, connection, "EXPENSICO-c7-v1")
    sandbox.app.inject("rate_limit", count=1, method="POST", retry_after="600")
    with pytest.raises(RateLimited) as exc:
        connector_for(connection).push(entry, key())
    assert exc.value.retry_after == 600


def test_5xx_is_retried(connection, kit, sandbox):
    entry = kit.sample_entry(sandbox, connection, "EXPENSICO-c8-v1")
    sandbox.app.inject("server_error", count=2, method="POST", status=503)
    result = connector_for(connection).push(entry, key())
    assert result.external_id
    assert len(kit.held(sandbox, "EXPENSICO-c8-v1")) == 1


def test_validation_is_permanent_and_names_the_field(connection, kit, sandbox):
    entry, field = kit.invalid_entry(sandbox, connection, "EXPENSICO-c9-v1")
    with pytest.raises(Permanent) as exc:
        connector_for(connection).push(entry, key())
    assert exc.value.field == field
    rejected = CallLog.objects.filter(connection=connection, error_class="Permanent")
    assert rejected.count() == 1, "validation is never retried"   # (GraphQL vendors answer 200 with errors)


def test_401_is_auth_expired(connection, kit, sandbox):
    kit.revoke(sandbox)
    with pytest.raises(AuthExpired):
        connector_for(connection).push(kit.sample_entry(sandbox, connection, "EXPENSICO-c10-v1"), key())
    connection.refresh_from_db()
    assert connection.status == Connection.Status.EXPIRED


def test_check_over_an_answer_missing_its_keys_is_an_unexpected_answer(connection, kit, sandbox):
    sandbox.app.inject("malformed", count=1000, **getattr(kit, "MALFORMED", {"body": {}}))
    result = connection_check(connection=connection)
    assert result.ok is False and isinstance(result.error, UnexpectedAnswer)
    assert result.error.code == "unexpected_answer" and "answer" in result.error.message
    connection.refresh_from_db()
    assert connection.status == Connection.Status.ERROR and connection.last_check_ok is False
    assert "UnexpectedAnswer" in connection.last_check_detail


def test_creating_an_account_over_an_answer_missing_its_keys_is_an_unexpected_answer(connection, kit, sandbox):
    sandbox.app.inject("malformed", count=1000, **getattr(kit, "MALFORMED", {"body": {}}))
    spec = AccountSpec(purpose=AccountPurpose.EMPLOYEE_CLAIMS, name="Contract – Claims (malformed)")
    with pytest.raises(UnexpectedAnswer):
        connector_for(connection).ensure_account(spec)


def test_reverse(connection, kit, sandbox):
    entry = kit.sample_entry(sandbox, connection, "EXPENSICO-c11-v1")
    pushed = connector_for(connection).push(entry, key())
    connector_for(connection).reverse(pushed.external_id, kit.reversal_entry(entry), key())
    assert "EXPENSICO-c11-v1" not in connector_for(connection).find_by_reference(["EXPENSICO-c11-v1"])
    # Reversing twice is harmless (the export engine may retry a reversal).
    connector_for(connection).reverse(pushed.external_id, kit.reversal_entry(entry), key())


def test_sandbox_exchanges_were_validated(connection, sandbox):
    connector_for(connection).catalog(CatalogKind.ACCOUNTS)
    if sandbox.checker:
        assert sandbox.checker.checked > 5
