"""T1, T2 (+ T2b, a 503 after a lost response), T6, T7, T9 and the fault-proxy cases (a response cut
mid-way, a black hole): driven through the real intake and worker code in this process; the vendor
is a real HTTP server on loopback and holds the truth."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
import time_machine
from django.db import connection as db_connection
from django.utils import timezone

from exports.models import ExportAttempt, ExportRecord, ReviewItem
from exports.services.review import review_items_retry
from exports.transitions import Status
from mappings.models import CategoryMapping

from .conftest import approved, deliver, drain, expense, live, signed

pytestmark = [
    pytest.mark.skipif(db_connection.vendor != "postgresql",
                       reason="concurrent intake and row-locking claims are what is proven: PostgreSQL only (CI)"),
    pytest.mark.django_db(transaction=True)]


def test_t1_same_signed_webhook_50_times_from_8_threads_books_one_document(live_server, org, books, sandbox):
    raw, headers = signed(org, approved(expense("exp_1")), "msg_t1")
    url = f"{live_server.url}/api/v1/expensico/webhooks/{org.slug}/"

    def post(_):
        return requests.post(url, data=raw, headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(post, range(50)))
    assert codes.count(202) == 1 and codes.count(200) == 49, codes
    drain()
    assert len(live(sandbox, "EXPENSICO-exp_1-v1")) == 1
    assert len(sandbox.app.documents("expenses")) == 1
    assert ExportRecord.objects.get().status == Status.EXPORTED


def test_t2_commit_then_lost_response_is_found_by_reference(org, books, sandbox):
    sandbox.app.inject("drop_after_commit", count=10, method="POST", path="/expenses/")
    deliver(org, approved(expense("exp_1")), "msg_t2")  # the doorbell pushes inline; every answer is lost
    record = ExportRecord.objects.get()
    assert record.status == Status.OUTCOME_UNKNOWN and record.needs_reconcile
    sent_before = len(sandbox.recorder.creates())
    assert sent_before >= 1
    assert len(live(sandbox, "EXPENSICO-exp_1-v1")) == 1  # the vendor did commit
    sandbox.app.clear_faults()

    assert drain() == {"exported": 1}
    record.refresh_from_db()
    assert record.status == Status.EXPORTED
    assert record.export_attempts.order_by("number").last().outcome == ExportAttempt.Outcome.RECONCILED
    assert record.external_id == live(sandbox, "EXPENSICO-exp_1-v1")[0]["id"]
    assert len(sandbox.recorder.creates()) == sent_before  # found by reference: nothing re-sent
    assert len(sandbox.app.documents("expenses")) == 1


def test_t6_validation_error_goes_to_review_with_one_idempotency_key_per_record(org, books, sandbox):
    CategoryMapping.objects.filter(connection=books, category_code="TRAVEL").update(
        account="acc_doesNotExist000000000")
    sandbox.app.inject("server_error", count=2, method="POST", path="/expenses/")  # retried inline first
    deliver(org, approved(expense("exp_1"), expense("exp_2", amount="40.00")), "msg_t6")
    drain()
    records = {r.source_id: r for r in ExportRecord.objects.all()}
    assert {r.status for r in records.values()} == {Status.NEEDS_REVIEW}
    items = ReviewItem.objects.filter(resolved_at__isnull=True)
    # Pre-flight knows Wafeq's chart: the account it lacks is caught before anything is sent.
    assert items.count() == 2 and {i.reason for i in items} == {ReviewItem.Reason.PREFLIGHT_FAILED}
    assert {i.context["field"] for i in items} == {"lines[0].account"}
    assert sandbox.app.documents("expenses") == []

    # The person fixes the account and retries: the records go again with the keys they always had.
    from connectors.wafeq.sandbox.testkit import _expense_account

    # Through save(), as the mapping screens do: the change is recorded in the mapping's history,
    # which is what tells the workers their cached mapping snapshot is out of date.
    fixed = CategoryMapping.objects.get(connection=books, category_code="TRAVEL")
    fixed.account = _expense_account(sandbox.app)
    fixed.save()
    review_items_retry(items=ReviewItem.objects.filter(pk__in=[i.pk for i in items]))
    drain()
    keys = sandbox.recorder.keys_by_reference()
    assert set(keys) == {"EXPENSICO-exp_1-v1", "EXPENSICO-exp_2-v1"}
    for reference, seen in keys.items():
        assert seen == {str(records[reference.split("-")[1]].idempotency_key)}, (reference, seen)
    # Pre-flight sent no POST the vendor would have rejected: the recorded creates are the two documents.
    assert len(sandbox.recorder.creates()) == 2
    for reference in keys:
        assert len(live(sandbox, reference)) == 1


def test_t7_after_the_vendor_forgets_the_key_we_look_up_before_resending(org, books, sandbox):
    sandbox.app.inject("drop_after_commit", count=10, method="POST", path="/expenses/")
    deliver(org, approved(expense("exp_1")), "msg_t7")
    assert ExportRecord.objects.get().status == Status.OUTCOME_UNKNOWN
    sent_before = len(sandbox.recorder.creates())
    sandbox.app.clear_faults()
    # Wafeq keeps keys for a limited time; two days later a replay would create a second document.
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=True):
        with sandbox.app.lock:
            sandbox.app.idempotency.clear()
        assert drain() == {"exported": 1}
    assert len(sandbox.recorder.creates()) == sent_before
    assert len(live(sandbox, "EXPENSICO-exp_1-v1")) == 1
    assert ExportRecord.objects.get().export_attempts.last().outcome == ExportAttempt.Outcome.RECONCILED


def test_t9_review_retry_after_fixing_a_mapping_exports_exactly_once(org, books, sandbox):
    deliver(org, approved(expense("exp_1", category="FUEL"), expense("exp_2", category="FUEL", amount="9.99")),
            "msg_t9")
    drain()
    assert set(ExportRecord.objects.values_list("status", flat=True)) == {Status.NEEDS_REVIEW}
    items = list(ReviewItem.objects.filter(resolved_at__isnull=True))
    assert {i.reason for i in items} == {ReviewItem.Reason.MAPPING_GAP}
    assert sandbox.recorder.creates() == []  # a mapping gap never reaches the vendor

    from connectors.wafeq.sandbox.testkit import _expense_account

    CategoryMapping.objects.create(connection=books, category_code="FUEL", account=_expense_account(sandbox.app))
    # The mapping change re-queues the gaps itself; a person's "retry" (twice, impatiently) must not
    # add a second export.
    for _ in range(2):  # as the admin action does: a fresh queryset of the selected items
        review_items_retry(items=ReviewItem.objects.filter(pk__in=[i.pk for i in items]))
    drain()
    drain()
    for reference in ("EXPENSICO-exp_1-v1", "EXPENSICO-exp_2-v1"):
        assert len(live(sandbox, reference)) == 1
    assert len(sandbox.recorder.creates()) == 2
    assert set(ExportRecord.objects.values_list("status", flat=True)) == {Status.EXPORTED}
    assert not ReviewItem.objects.filter(resolved_at__isnull=True).exists()


def test_t2b_a_5xx_after_a_lost_response_still_means_maybe_sent(org, books, sandbox):
    """Found by T10: the inline retries ended on a 503, which used to hide the earlier commit, so
    a cancellation then left the document booked at the vendor."""
    from .conftest import cancelled

    sandbox.app.inject("drop_after_commit", count=1, method="POST", path="/expenses/")
    sandbox.app.inject("server_error", count=10, method="POST", path="/expenses/")
    deliver(org, approved(expense("exp_1")), "msg_t2b")
    record = ExportRecord.objects.get()
    assert record.status == Status.OUTCOME_UNKNOWN and record.needs_reconcile
    assert len(live(sandbox, "EXPENSICO-exp_1-v1")) == 1
    deliver(org, cancelled("exp_1"), "msg_t2b_cancel")
    sandbox.app.clear_faults()
    drain()
    assert live(sandbox, "EXPENSICO-exp_1-v1") == []  # reconciled, then reversed at the vendor
    assert ExportRecord.objects.get(kind="reversal").status == Status.EXPORTED


@pytest.mark.parametrize("fault", ["cut", "blackhole"])
def test_proxy_faults_the_sandbox_cannot_fake(fault, org, books, sandbox):
    """A response cut mid-way (the vendor committed) and a black hole (it never arrived): both are
    unknown outcomes to us; the look-up by reference tells them apart, and each ends with one document."""
    from connectors.metadata import connection_metadata

    from .faultproxy import Fault, FaultProxy

    with FaultProxy(("127.0.0.1", sandbox.port)) as proxy:
        books.base_url = f"{proxy.url}/v1"
        books.supply_credentials(api_key=books.api_key)   # a move keeps only the secrets given with it
        books.settings = {**books.settings, "read_timeout": 0.5}
        books.save(update_fields=["base_url", "settings"])
        connection_metadata(connection=books)   # pre-flight's cache is warm: the fault meets the push
        proxy.mode = Fault.cut(300) if fault == "cut" else Fault.blackhole()
        deliver(org, approved(expense("exp_1")), f"msg_proxy_{fault}")
        record = ExportRecord.objects.get()
        assert record.status == Status.OUTCOME_UNKNOWN and record.needs_reconcile, record.last_error
        assert len(live(sandbox, "EXPENSICO-exp_1-v1")) == (1 if fault == "cut" else 0)
        proxy.mode = Fault.PASS
        assert drain() == {"exported": 1}
    record.refresh_from_db()
    assert len(live(sandbox, "EXPENSICO-exp_1-v1")) == 1
    assert record.external_id == live(sandbox, "EXPENSICO-exp_1-v1")[0]["id"]
    expected = ExportAttempt.Outcome.RECONCILED if fault == "cut" else ExportAttempt.Outcome.EXPORTED
    assert record.export_attempts.order_by("number").last().outcome == expected


def test_t2c_an_edit_while_a_maybe_sent_record_waits_still_undoes_it(org, books, sandbox):
    """Found by T10: a lost response, then an open breaker parked the record as `retry`; an edit
    then superseded it as if never sent, and v1 stayed booked next to v2."""
    from datetime import timedelta as td

    from connectors.breaker import breaker_reset

    sandbox.app.inject("drop_after_commit", count=10, method="POST", path="/expenses/")
    deliver(org, approved(expense("exp_1")), "msg_t2c")
    sandbox.app.clear_faults()
    books.refresh_from_db()
    type(books).objects.filter(pk=books.pk).update(paused_until=timezone.now() + td(minutes=5))
    drain(rounds=1)
    record = ExportRecord.objects.get()
    assert record.status == Status.RETRY and record.needs_reconcile  # waiting on the breaker, maybe sent
    deliver(org, approved(expense("exp_1", version=2, amount="99.00")), "msg_t2c_v2")
    breaker_reset(connection=books)
    drain()
    assert live(sandbox, "EXPENSICO-exp_1-v1") == []
    assert len(live(sandbox, "EXPENSICO-exp_1-v2")) == 1


def test_t2d_a_cancel_while_a_maybe_sent_record_waits_in_review_still_undoes_it(org, books, sandbox):
    """A lost response, then the look-up that should settle it is refused (here a 400), so the
    record is parked for a person still maybe-sent. Cancelling the expense then must not simply
    drop the record: the vendor holds it, so the reversal looks it up and undoes it."""
    from .conftest import cancelled

    sandbox.app.inject("drop_after_commit", count=10, method="POST", path="/expenses/")
    deliver(org, approved(expense("exp_1")), "msg_t2d")
    sandbox.app.clear_faults()
    sandbox.app.inject("server_error", count=1, status=400, method="GET", path="/expenses/")
    drain(rounds=1)
    record = ExportRecord.objects.get()
    assert record.status == Status.NEEDS_REVIEW and record.needs_reconcile, record.last_error
    assert len(live(sandbox, "EXPENSICO-exp_1-v1")) == 1          # booked, though we could not see it

    deliver(org, cancelled("exp_1"), "msg_t2d_cancel")
    drain()
    assert live(sandbox, "EXPENSICO-exp_1-v1") == []
    record.refresh_from_db()
    reversal = ExportRecord.objects.get(kind="reversal")
    assert (record.status, reversal.status) == (Status.EXPORTED, Status.EXPORTED)
    assert not ReviewItem.objects.filter(record=record, resolved_at__isnull=True).exists()
