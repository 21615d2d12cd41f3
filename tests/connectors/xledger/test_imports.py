"""Which import of a reference is live, from one lookup answer (pure), and what the connector does
with a refused voucher (over the sandbox)."""

import uuid

import pytest

from connectors.base import connector_for
from connectors.xledger import imports
from connectors.xledger.sandbox import testkit


def row(db_id, ref, at, amount="10.00", **extra):
    return {"dbId": str(db_id), "extIdentifier": ref, "amount": amount, "createdAt": at, **extra}


def error(db_id, ref, at, message="Period is closed."):
    return {"dbId": str(db_id), "objectValue": ref, "createdAt": at, "message": message}


def answer(items=(), reversals=(), errors=()):
    return {"items": {"edges": [{"node": n} for n in items]},
            "reversals": {"edges": [{"node": n} for n in reversals]},
            "errors": {"edges": [{"node": n} for n in errors]}}


T1, T2, T3 = "2026-11-02T10:00:00.000001Z", "2026-11-02T10:00:00.500000Z", "2026-11-02T11:00:00.000000Z"


def test_an_import_without_error_rows_is_live():
    found, _ = imports.documents(answer([row(1, "R", T1), row(2, "R", T1, "-10.00")]))
    assert found["R"].live and found["R"].external_id == "GLI:1" and found["R"].amount == "10.00"


def test_an_error_at_or_after_the_newest_import_means_it_failed():
    found, _ = imports.documents(answer([row(1, "R", T1), row(2, "R", T1, "-10.00")], errors=[error(3, "R", T2)]))
    assert not found["R"].live and found["R"].status == "import failed: Period is closed."


def test_a_voucher_sent_again_after_the_failure_is_live_on_its_own_rows():
    items = [row(1, "R", T1), row(2, "R", T1, "-10.00"), row(5, "R", T3), row(6, "R", T3, "-10.00")]
    found, _ = imports.documents(answer(items, errors=[error(3, "R", T2)]))
    assert found["R"].live and found["R"].external_id == "GLI:5" and found["R"].amount == "10.00"


def test_a_refused_reversing_voucher_does_not_count_as_a_reversal():
    reversal = [row(7, "R-R", T1, yourReference="R")]
    assert imports.documents(answer(reversals=reversal))[1] == {"R"}
    assert imports.documents(answer(reversals=reversal, errors=[error(8, "R-R", T2)]))[1] == set()


@pytest.mark.django_db
def test_push_sends_a_refused_voucher_again_and_reverse_retries_a_refused_reversal(xl_connection, xl_server):
    entry = testkit.sample_entry(xl_server, xl_connection, "EXPENSICO-ref-v1")
    key = str(uuid.uuid4())
    testkit.fail_next_imports(xl_server, "Period is closed.")
    first = connector_for(xl_connection).push(entry, key)
    assert not connector_for(xl_connection).find_by_reference([entry.reference])[entry.reference].live
    again = connector_for(xl_connection).push(entry, key)          # the same key: a retry of the record
    assert again.external_id != first.external_id and not again.replayed and again.calls == 2
    assert len(testkit.booked(xl_server, entry.reference)) == 1
    assert connector_for(xl_connection).push(entry, key).replayed   # now live: nothing is sent

    reversal = testkit.reversal_entry(entry)
    testkit.fail_next_imports(xl_server, "Period is closed.")
    connector_for(xl_connection).reverse(again.external_id, reversal, str(uuid.uuid4()))
    assert not testkit.booked(xl_server, reversal.reference)
    done = connector_for(xl_connection).reverse(again.external_id, reversal, str(uuid.uuid4()))
    assert not done.notes and len(testkit.booked(xl_server, reversal.reference)) == 1
    assert connector_for(xl_connection).reverse(again.external_id, reversal, str(uuid.uuid4())).notes == (
        "already reversed",)
