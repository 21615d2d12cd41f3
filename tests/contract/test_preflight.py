"""Pre-flight against each vendor's sandbox: an inactive account, an inactive dimension value, a
closed period and a missing mandatory field are each caught by the worker before anything is
sent — the call log shows no write to the vendor — and the record goes to review naming the field."""

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest

from connectors.base import CatalogKind, connector_for
from connectors.entry import Dimension, LineRole
from connectors.metadata import connection_metadata
from connectors.models import CallLog
from connectors.sandboxing.preflight import state_lock
from expensico_sync.core.models import Organization
from exports.models import ExportRecord, ReviewItem
from exports.services import preview, worker
from exports.services.preflight import entry_check
from exports.services.resolution import Resolution
from exports.transitions import Status

pytestmark = pytest.mark.django_db
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _with_dimension(connection, entry):
    """The sample entry with an active dimension value of the vendor's on its expense line."""
    values = [d for d in connector_for(connection).catalog(CatalogKind.DIMENSIONS) if d.active]
    assert values, "the sandbox seeds dimension values"
    value = values[0]
    lines = tuple(dataclasses.replace(line, dimensions=(*line.dimensions, Dimension(value.classification,
                                                                                     value.remote_id)))
                  if line.role is LineRole.EXPENSE else line for line in entry.lines)
    return dataclasses.replace(entry, lines=lines), value.remote_id


def _work(connection, entry, monkeypatch) -> ExportRecord:
    """Runs the worker on a record whose resolution is `entry` (mappings are not the subject here)."""
    Organization.objects.filter(pk=connection.organization_id).update(mode=Organization.Mode.LIVE)
    # No source expense behind it: the worker reads none (the source and mappings are not the subject).
    monkeypatch.setattr(worker.gates, "source_moot", lambda record: None)
    monkeypatch.setattr(worker, "receipts_complete", lambda record: None)
    record = ExportRecord.objects.create(
        organization=connection.organization, connection=connection, kind=entry.kind.value,
        source_id=entry.reference, source_version=1, reference=entry.reference,
        next_attempt_at=None, status=Status.PENDING)
    monkeypatch.setattr(preview, "record_resolve", lambda record: Resolution(entry=entry, mapping_version="t"))
    ExportRecord.objects.filter(pk=record.pk).update(next_attempt_at=record.created_at)
    worker.record_process(record_id=record.pk)
    record.refresh_from_db()
    return record


def _writes(connection, since_id):
    return list(CallLog.objects.filter(connection=connection, pk__gt=since_id, method__in=WRITES)
                .values_list("method", "path"))


def _last_call(connection):
    return CallLog.objects.filter(connection=connection).order_by("-pk").values_list("pk", flat=True).first() or 0


def _caught(connection, entry, monkeypatch, field_prefix):
    connection_metadata(connection=connection, refresh=True)   # the vendor changed: refresh the cache
    before = _last_call(connection)
    record = _work(connection, entry, monkeypatch)
    assert record.status == Status.NEEDS_REVIEW, record.last_error
    item = ReviewItem.objects.get(record=record)
    assert item.reason == ReviewItem.Reason.PREFLIGHT_FAILED
    assert item.context["field"].startswith(field_prefix), item.context
    assert item.context["fix"]
    assert _writes(connection, before) == []       # nothing went to the vendor's posting endpoints
    assert not CallLog.objects.filter(connection=connection, pk__gt=before).exists()   # not even a read
    return item


def test_a_valid_entry_passes_and_is_booked(connection, kit, sandbox, monkeypatch):
    entry, _ = _with_dimension(connection, kit.sample_entry(sandbox, connection, "EXPENSICO-pf_ok-v1"))
    assert entry_check(connection=connection, entry=entry) == []
    record = _work(connection, entry, monkeypatch)
    assert record.status == Status.EXPORTED, record.last_error


def test_inactive_account_is_caught_before_sending(connection, kit, sandbox, monkeypatch):
    entry = kit.sample_entry(sandbox, connection, "EXPENSICO-pf_acc-v1")
    expense = next(i for i, line in enumerate(entry.lines) if line.role is LineRole.EXPENSE)
    kit.deactivate_account(sandbox, connection, entry.lines[expense].account)
    item = _caught(connection, entry, monkeypatch, f"lines[{expense}].account")
    assert "inactive" in item.detail


def test_inactive_dimension_value_is_caught_before_sending(connection, kit, sandbox, monkeypatch):
    entry, value = _with_dimension(connection, kit.sample_entry(sandbox, connection, "EXPENSICO-pf_dim-v1"))
    kit.deactivate_dimension(sandbox, connection, value)
    item = _caught(connection, entry, monkeypatch, "lines[")
    assert ".dimensions." in item.context["field"] and "inactive" in item.detail


def _locked(kit, sandbox, connection, entry, *, state: bool) -> None:
    """The period of `entry` is closed in the vendor. Business Central publishes its lock (General
    Ledger Setup); the other five APIs do not, so the customer states it on the connection."""
    through = entry.date + timedelta(days=3)
    kit.lock_period(sandbox, connection, through)
    if state and not getattr(kit, "LOCK_PUBLISHED", False):
        state_lock(connection, through)
    connection_metadata(connection=connection, refresh=True)   # the pre-flight cache, as on any day


def _held_for_the_period(connection, entry, monkeypatch) -> ReviewItem:
    before = _last_call(connection)
    record = _work(connection, entry, monkeypatch)
    assert record.status == Status.NEEDS_REVIEW, record.last_error
    item = ReviewItem.objects.get(record=record)
    # Caught before sending, held as any closed-period refusal is (the connection's policy: hold).
    assert item.reason == ReviewItem.Reason.PERIOD_CLOSED and item.context["field"] == "date"
    assert item.context["findings"][0]["code"] == "period_closed", item.context
    assert _writes(connection, before) == []
    assert not CallLog.objects.filter(connection=connection, pk__gt=before).exists()   # not even a read
    return item


def test_closed_period_is_caught_before_the_first_send(connection, kit, sandbox, monkeypatch):
    """The first document dated in the vendor's locked period costs no vendor request: the lock is
    in the cached metadata (published by the vendor, or stated on the connection)."""
    entry = kit.sample_entry(sandbox, connection, "EXPENSICO-pf_per0-v1")
    _locked(kit, sandbox, connection, entry, state=True)
    _held_for_the_period(connection, entry, monkeypatch)
    assert kit.held(sandbox, entry.reference) == []


def test_an_unstated_lock_is_learned_from_the_first_refusal(connection, kit, sandbox, monkeypatch):
    """Where the lock is neither published nor stated, the vendor's first refusal teaches it and
    every later document in the range is caught before it is sent."""
    first = kit.sample_entry(sandbox, connection, "EXPENSICO-pf_per1-v1")
    _locked(kit, sandbox, connection, first, state=False)
    record = _work(connection, first, monkeypatch)
    assert record.status == Status.NEEDS_REVIEW
    second = kit.sample_entry(sandbox, connection, "EXPENSICO-pf_per2-v1", amount=Decimal("57.50"))
    _held_for_the_period(connection, second, monkeypatch)


def test_missing_mandatory_dimension_is_caught_before_sending(connection, kit, sandbox, monkeypatch):
    """The vendor's mandatory-field rule (Workday: a cost-centre worktag on expense accounts, its
    tenant's rule; elsewhere the rule the customer configured in the ledger, e.g. Business
    Central's "Code Mandatory" default dimension) as the connection states it."""
    entry = kit.sample_entry(sandbox, connection, "EXPENSICO-pf_req-v1")
    line = next(i for i, li in enumerate(entry.lines) if li.role is LineRole.EXPENSE)
    entry = dataclasses.replace(entry, lines=tuple(dataclasses.replace(li, dimensions=()) if i == line else li
                                                   for i, li in enumerate(entry.lines)))
    kind = kit.mandatory_dimension(sandbox, connection, entry.lines[line].account)
    item = _caught(connection, entry, monkeypatch, f"lines[{line}].dimensions.")
    assert kind in item.context["field"]


def test_unknown_tax_code_is_caught_before_sending(connection, kit, sandbox, monkeypatch):
    """A tax code the vendor does not have (e.g. a mapping to a code since deleted there)."""
    entry = kit.sample_entry(sandbox, connection, "EXPENSICO-pf_tax-v1")
    line = next(i for i, li in enumerate(entry.lines) if li.role is LineRole.EXPENSE)
    entry = dataclasses.replace(entry, lines=tuple(dataclasses.replace(li, tax_rate="NO_SUCH_TAX") if i == line else li
                                                   for i, li in enumerate(entry.lines)))
    assert connection_metadata(connection=connection, refresh=True).tax_rates is not None, "the vendor lists them"
    item = _caught(connection, entry, monkeypatch, f"lines[{line}].tax_rate")
    assert "NO_SUCH_TAX" in item.detail


def test_a_currency_the_vendor_has_not_enabled_is_caught_before_sending(connection, kit, sandbox, monkeypatch, system):
    meta = connection_metadata(connection=connection, refresh=True)
    if meta.currencies is None:
        # Wafeq lists no enabled currencies: any currency books there with a rate.
        assert system == "wafeq"
        pytest.skip("the vendor has no list of enabled currencies")
    entry = dataclasses.replace(kit.sample_entry(sandbox, connection, "EXPENSICO-pf_cur-v1"), currency="MYR")
    item = _caught(connection, entry, monkeypatch, "currency")
    assert "MYR" in item.detail
