"""Business Central's push many beyond the contract suite: each document in an atomicity group of
its own in one `$batch` (the sandbox keeps OData's JSON batch rules for groups), and documents that
need more than one request (dimensions, receipts) keep push's road."""

import pytest

from connectors.base import PushResult, connector_for
from connectors.business_central import schema
from connectors.business_central.sandbox import testkit
from connectors.errors import Permanent
from connectors.models import CallLog

from .helpers import key, split_entry, with_receipt

pytestmark = pytest.mark.django_db


def test_a_failed_group_is_rolled_back_alone(bc_connection, bc_server):
    connector = connector_for(bc_connection)
    path = connector.cp(f"journals({connector.journal_id()})/journalLines")
    good = schema.journal_lines(testkit.sample_entry(bc_server, bc_connection, "EXPENSICO-g1-v1"))
    bad = schema.journal_lines(testkit.invalid_entry(bc_server, bc_connection, "EXPENSICO-g2-v1")[0])
    ops = [{"method": "POST", "url": path, "body": ln.body, "atomicityGroup": group}
           for group, lines in (("a", good), ("b", good[:1] + bad)) for ln in lines]
    answers = connector.client.batch_groups(ops, keys=[key(), key()])
    statuses = [(a["atomicityGroup"], a["status"]) for a in answers]
    assert statuses[:len(good)] == [("a", 201)] * len(good)
    assert statuses[len(good)] == ("b", 424), "rolled back with its group"
    assert statuses[-1][1] == 400
    numbers = [ln["documentNumber"] for ln in bc_server.app.sets["journalLines"].values()]
    assert numbers.count(schema.short_reference("EXPENSICO-g1-v1")) == len(good)
    assert schema.short_reference("EXPENSICO-g2-v1") not in numbers


def test_a_group_split_across_the_batch_is_refused(bc_connection, bc_server):
    connector = connector_for(bc_connection)
    path = connector.cp(f"journals({connector.journal_id()})/journalLines")
    [line] = schema.journal_lines(testkit.sample_entry(bc_server, bc_connection, "EXPENSICO-s1-v1"))
    ops = [{"method": "POST", "url": path, "body": line.body, "atomicityGroup": g} for g in ("a", "b", "a")]
    with pytest.raises(Permanent, match="adjacent"):
        connector.client.batch_groups(ops, keys=[key()])
    assert not bc_server.app.sets["journalLines"] or all(
        ln["documentNumber"] != line.body["documentNumber"] for ln in bc_server.app.sets["journalLines"].values())


def test_documents_of_several_requests_take_pushs_road(bc_connection, bc_server):
    connector = connector_for(bc_connection)
    split = split_entry(bc_server, bc_connection, "EXPENSICO-split-v1")
    receipt = with_receipt(testkit.sample_entry(bc_server, bc_connection, "EXPENSICO-rcpt-v1"))
    plain = [testkit.sample_entry(bc_server, bc_connection, f"EXPENSICO-plain{i}-v1") for i in range(3)]
    assert not connector.pushes_together(split) and not connector.pushes_together(receipt)
    assert all(connector.pushes_together(e) for e in plain)
    before = CallLog.objects.filter(connection=bc_connection, path__endswith="$batch").count()
    results = connector.push_many([(e, key()) for e in [split, *plain]])
    assert all(isinstance(r, PushResult) for r in results)
    batches = CallLog.objects.filter(connection=bc_connection, path__endswith="$batch").order_by("id")[before:]
    assert [c.documents.count() for c in batches] == [0, 0, 3], "split's own two batches, then the three together"
    assert all(len(testkit.held(bc_server, e.reference)) == 1 for e in [split, *plain])
