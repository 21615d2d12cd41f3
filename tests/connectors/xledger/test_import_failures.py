"""Asynchronous import failures over real HTTP: Xledger accepts a voucher, its import job refuses it,
the export engine's poll turns that into a review item, and a retry sends the voucher again."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from connectors.base import connector_for
from connectors.models import CallLog
from connectors.xledger import schema
from connectors.xledger.sandbox import testkit
from expensico_sync.core.models import Organization
from exports.models import ExportRecord, ImportFailureCursor, ReviewItem
from exports.services import import_failures as service
from exports.services.review import review_item_resolve
from exports.services.worker import records_work_due
from exports.transitions import Status
from mappings.models import CategoryMapping
from tests.exports.conftest import approve, expense

pytestmark = pytest.mark.django_db(transaction=True)
CLOSED = "Period 2026-11 is closed for posting."
REF = "EXPENSICO-exp_1-v1"


@pytest.fixture
def live_org():
    return Organization.objects.create(slug="xl-imports", name="XL imports", base_currency="SAR", mode="live")


@pytest.fixture
def books(live_org, xl_server):
    xl_server.app.tables["entities"][0]["currency"] = {"code": "SAR"}
    xl_server.app._add("currencies", {"code": "SAR", "description": "Saudi riyal"})
    connection = testkit.connect(xl_server, live_org)
    CategoryMapping.objects.create(connection=connection, category_code="TRAVEL",
                                   account=testkit._account(xl_server, "7140"))
    return connection


def work():
    ExportRecord.objects.filter(status__in=[Status.RETRY, Status.OUTCOME_UNKNOWN]).update(next_attempt_at=timezone.now())
    return records_work_due(limit=100)


def calls(connection) -> int:
    return CallLog.objects.filter(connection=connection).count()


def soon(minutes: int = 5):
    """A scheduler tick `minutes` from now: the first point of the poll tail after an export."""
    return timezone.now() + timedelta(minutes=minutes)


@pytest.fixture
def failed(live_org, books, xl_server):
    """exp_1 exported, then refused by Xledger's import job."""
    testkit.fail_next_imports(xl_server, CLOSED)
    approve(live_org, expense("exp_1"))
    work()
    record = ExportRecord.objects.get()
    assert record.status == Status.EXPORTED and not testkit.booked(xl_server, REF)
    return record


def test_a_failed_import_becomes_a_high_review_item_and_unbooks_the_record(failed, books, xl_server):
    before = calls(books)
    assert service.import_failures_poll_due(now=soon()) == {"connections": 1, "errors": 0, "opened": 1}
    assert calls(books) - before == 2, "the poll, and one batched look-up because it had something to park"
    failed.refresh_from_db()
    assert failed.status == Status.NEEDS_REVIEW and failed.last_error == CLOSED
    item = ReviewItem.objects.get(record=failed, resolved_at__isnull=True)
    assert (item.reason, item.severity, item.detail) == (ReviewItem.Reason.IMPORT_FAILED, ReviewItem.Severity.HIGH,
                                                         CLOSED)
    [row] = xl_server.app.tables["glImportItemErrors"]
    assert item.context["error_ids"] == [row["dbId"]] and item.context["level"] == "ERROR"
    assert item.context["vendor_rows"][0]["objectValue"] == REF
    assert item.context["external_id"] == failed.external_id
    attempt = failed.export_attempts.last()
    assert attempt.error_class == "ImportFailed" and attempt.error_message == CLOSED


def test_re_polling_is_idempotent_and_the_cursor_advances(failed, books, xl_server):
    service.import_failures_poll_due(now=soon())
    cursor = ImportFailureCursor.objects.get(connection=books)
    [row] = xl_server.app.tables["glImportItemErrors"]
    assert cursor.since == row["createdAt"] and cursor.polled_at
    attempts = failed.export_attempts.count()
    assert service.connection_import_failures_poll(connection=books) == {"seen": 1}  # the cursor is inclusive
    assert ReviewItem.objects.filter(record=failed).count() == 1 and failed.export_attempts.count() == attempts
    # A later failure moves the cursor on to it.
    testkit.fail_next_imports(xl_server, "Account 7140 is blocked.")
    approve(failed.organization, expense("exp_2"), rid="rpt_2")
    work()
    assert service.connection_import_failures_poll(connection=books) == {"seen": 1, "opened": 1}
    cursor.refresh_from_db()
    assert cursor.since == xl_server.app.tables["glImportItemErrors"][-1]["createdAt"]
    assert ExportRecord.objects.get(source_id="exp_2").status == Status.NEEDS_REVIEW


def test_the_cursor_stays_put_when_handling_dies(failed, books, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(service, "import_failure_handle", boom)
    with pytest.raises(RuntimeError):
        service.connection_import_failures_poll(connection=books)
    assert ImportFailureCursor.objects.get(connection=books).since == ""
    monkeypatch.undo()
    assert service.connection_import_failures_poll(connection=books) == {"opened": 1}


def test_retry_after_the_fix_sends_again_and_books_exactly_once(failed, books, xl_server):
    service.import_failures_poll_due(now=soon())
    item = ReviewItem.objects.get(record=failed, resolved_at__isnull=True)
    review_item_resolve(item=item, resolution=ReviewItem.Resolution.RETRIED, note="period reopened")
    work()
    failed.refresh_from_db()
    assert failed.status == Status.EXPORTED, failed.last_error
    assert len(testkit.held(xl_server, REF)) == 2, "the refused voucher stays in staging; a second one went"
    [booked] = testkit.booked(xl_server, REF)
    found = connector_for(books).find_by_reference([REF])[REF]
    assert found.live and found.external_id == failed.external_id
    assert int(found.external_id.split(":")[1]) > int(item.context["external_id"].split(":")[1])
    # The old error row is seen again (inclusive cursor) and changes nothing.
    assert service.connection_import_failures_poll(connection=books) == {"seen": 1}
    failed.refresh_from_db()
    assert failed.status == Status.EXPORTED


def test_unknown_references_are_ignored(live_org, books, xl_server):
    connector = connector_for(books)
    inputs = schema.voucher_inputs(testkit.sample_entry(xl_server, books, "SOMEONE-ELSE-1"))
    inputs[1]["node"]["amount"] = "-1.00"
    connector._send_voucher(inputs, "k-1")
    assert service.import_failures_poll_due(force=True) == {"connections": 1, "errors": 0, "ignored": 1}
    assert not ReviewItem.objects.exists()


def test_quiet_connections_are_not_polled(live_org, books, failed):
    assert service.connections_to_poll() == [], "not before the first point of the tail"
    assert service.connections_to_poll(now=soon()) == [books]
    ExportRecord.objects.update(exported_at=timezone.now() - service.watch_window() * 2)
    ImportFailureCursor.objects.create(connection=books, polled_at=timezone.now() - service.watch_window())
    assert service.connections_to_poll() == [], "polled after the last point of the tail"
    assert service.connections_to_poll(force=True) == [books]
    Organization.objects.filter(pk=live_org.pk).update(mode=Organization.Mode.PAUSED)
    assert service.connections_to_poll(force=True) == []


def test_the_command_polls_now(failed, capsys):
    ExportRecord.objects.update(exported_at=timezone.now() - timedelta(minutes=6))
    call_command("import_failures_poll")
    assert "opened 1" in capsys.readouterr().out
    assert ReviewItem.objects.get(resolved_at__isnull=True).reason == ReviewItem.Reason.IMPORT_FAILED


def test_an_export_costs_four_polls_and_an_idle_connection_none(live_org, books, xl_server):
    start = timezone.now()
    ticks = [start + timedelta(minutes=5 * n) for n in range(1, 12 * 24 * 2)]   # two days, every 5 minutes

    def run(moments) -> int:
        seen = xl_server.app.requests_seen
        for moment in moments:
            service.import_failures_poll_due(now=moment)
        return xl_server.app.requests_seen - seen

    assert run(ticks) == 0, "nothing exported: nothing polled"
    approve(live_org, expense("exp_1"))
    work()
    exported = ExportRecord.objects.get().exported_at
    after = [exported + timedelta(minutes=5 * n, seconds=1) for n in range(12 * 24 * 2)]
    assert run(after[:1]) == 0, "not in the same tick as the export"
    assert run(after[1:]) == 4, "5, 15, 60 minutes and a day after the export, then nothing"


def test_a_row_of_a_record_still_being_sent_is_not_skipped(live_org, books, xl_server, monkeypatch):
    """The import job refuses the voucher before the worker has recorded the export, and a newer
    row (someone else's) comes in the same poll: the cursor must not pass the first row."""
    from connectors.xledger.connector import XledgerConnector

    push, during = XledgerConnector.push, []

    def racing(self, entry, idempotency_key):
        result = push(self, entry, idempotency_key)
        other = schema.voucher_inputs(testkit.sample_entry(xl_server, books, "SOMEONE-ELSE-2"))
        other[1]["node"]["amount"] = "-1.00"
        self._send_voucher(other, "k-2")
        during.append(service.connection_import_failures_poll(connection=books))
        return result

    monkeypatch.setattr(XledgerConnector, "push", racing)
    testkit.fail_next_imports(xl_server, CLOSED)
    approve(live_org, expense("exp_1"))
    work()
    record = ExportRecord.objects.get()
    assert during == [{"in_flight": 1, "ignored": 1}] and record.status == Status.EXPORTED
    assert service.connection_import_failures_poll(connection=books) == {"opened": 1, "ignored": 1}
    record.refresh_from_db()
    assert record.status == Status.NEEDS_REVIEW and record.last_error == CLOSED


def test_a_stale_row_does_not_park_a_record_whose_voucher_was_sent_again(live_org, books, xl_server):
    """The first voucher ran, lost its answer and was refused; the push found it refused and sent
    it again, which booked. The refusal row is about the first voucher only."""
    from connectors.metadata import connection_metadata
    connection_metadata(connection=books)    # GraphQL reads are POSTs too: pre-flight's cache is warm first
    testkit.fail_next_imports(xl_server, CLOSED)
    xl_server.app.inject("drop_after_commit", count=1, method="POST")
    approve(live_org, expense("exp_1"))
    work()
    record = ExportRecord.objects.get()
    assert record.status == Status.EXPORTED and len(testkit.booked(xl_server, REF)) == 1
    before = calls(books)
    assert service.import_failures_poll_due(now=soon()) == {"connections": 1, "errors": 0, "stale": 1}
    assert calls(books) - before == 2, "the poll and one look-up"
    record.refresh_from_db()
    assert record.status == Status.EXPORTED and not ReviewItem.objects.exists()
