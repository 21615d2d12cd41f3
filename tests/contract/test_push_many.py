"""The "push many" capability (Connector.push_many_limit / push_many), against every vendor that
offers it, over real sockets: many documents in one vendor call, each with its own outcome, its
own idempotency key in the call log, and exactly once per document under the faults a whole call
can meet (a lost answer, a rate limit). Vendors without it keep one push per document."""

import uuid

import pytest

from connectors.base import PushResult, connector_class, connector_for
from connectors.errors import OutcomeUnknown, Permanent, RateLimited
from connectors.models import CallLog, CallLogDocument
from connectors.registry import vendors

pytestmark = pytest.mark.django_db

MANY = [v.key for v in vendors() if connector_class(v.key).push_many_limit > 1]


@pytest.fixture(params=MANY)
def system(request):
    return request.param


def items(kit, sandbox, connection, n: int, tag: str) -> list[tuple]:
    return [(kit.sample_entry(sandbox, connection, f"EXPENSICO-{tag}{i}-v1"), str(uuid.uuid4())) for i in range(n)]


def calls(connection) -> int:
    return CallLog.objects.filter(connection=connection).count()


def held_once(kit, sandbox, batch) -> bool:
    return all(len(kit.held(sandbox, entry.reference)) == 1 for entry, _ in batch)


def test_the_vendors_that_push_many_are_xledger_and_business_central():
    assert sorted(MANY) == ["business_central", "xledger"]
    others = [v.key for v in vendors() if v.key not in MANY]
    assert others and all(connector_class(k).push_many_limit == 0 for k in others)


def test_many_documents_go_in_one_call_and_each_key_is_in_its_log(kit, sandbox, connection):
    batch = items(kit, sandbox, connection, 5, "one")
    before = calls(connection)
    results = connector_for(connection).push_many(batch)
    assert calls(connection) - before == 1
    assert all(isinstance(r, PushResult) and not r.replayed for r in results)
    assert len({r.external_id for r in results}) == 5
    assert held_once(kit, sandbox, batch)
    call = CallLog.objects.filter(connection=connection).order_by("-id").first()
    assert sorted(CallLogDocument.objects.filter(call=call).values_list("idempotency_key", flat=True)) == \
        sorted(k for _, k in batch)
    client = connector_for(connection).client
    assert set(client.first_sent_many([k for _, k in batch])) == {k for _, k in batch}
    assert client.first_sent(batch[2][1]) is not None and client.first_sent(str(uuid.uuid4())) is None


def test_a_document_the_vendor_refuses_fails_alone(kit, sandbox, connection):
    batch = items(kit, sandbox, connection, 4, "part")
    bad, field = kit.invalid_entry(sandbox, connection, "EXPENSICO-bad-v1")
    batch.insert(2, (bad, str(uuid.uuid4())))
    results = connector_for(connection).push_many(batch)
    assert isinstance(results[2], Permanent) and results[2].field == field
    assert all(isinstance(r, PushResult) for i, r in enumerate(results) if i != 2)
    assert held_once(kit, sandbox, batch[:2] + batch[3:]) and kit.held(sandbox, bad.reference) == []


def test_a_lost_answer_leaves_every_document_unknown_then_one_look_up_finds_them_all(kit, sandbox, connection):
    batch = items(kit, sandbox, connection, 5, "lost")
    sandbox.app.inject("drop_after_commit", count=1, method="POST")
    results = connector_for(connection).push_many(batch)
    assert all(isinstance(r, OutcomeUnknown) for r in results)
    assert held_once(kit, sandbox, batch), "the vendor did commit them"
    before = calls(connection)
    again = connector_for(connection).push_many(batch)
    assert all(isinstance(r, PushResult) and r.replayed for r in again)
    assert len({r.external_id for r in again}) == 5
    assert calls(connection) - before == 1, "one look-up for all five, nothing sent again"
    assert held_once(kit, sandbox, batch)


def test_a_rate_limited_call_is_each_documents_rate_limit_and_sends_nothing(kit, sandbox, connection):
    batch = items(kit, sandbox, connection, 3, "busy")
    sandbox.app.inject("rate_limit", count=10, method="POST", retry_after="1")
    results = connector_for(connection).push_many(batch)
    assert all(isinstance(r, RateLimited) for r in results)
    assert all(kit.held(sandbox, e.reference) == [] for e, _ in batch)
    sandbox.app.clear_faults()
    assert all(isinstance(r, PushResult) for r in connector_for(connection).push_many(batch))
    assert held_once(kit, sandbox, batch)
