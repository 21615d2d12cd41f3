"""The transition table holds whichever door a change comes through: services, API, admin, save()."""

import itertools

import pytest
from django.urls import reverse

from exports.models import ExportRecord
from exports.services import actions
from exports.services.status_update import StaleRecord, record_transition
from exports.transitions import TRANSITIONS, IllegalTransition, Status, is_legal
from tests.conftest import admin_confirm

from .factories import make_record

pytestmark = pytest.mark.django_db
PAIRS = [(a, b) for a, b in itertools.product(Status.values, Status.values) if a != b]


def test_the_table_is_closed_and_exported_is_final_but_for_a_late_import_failure():
    assert set(TRANSITIONS) == set(Status.values)
    for targets in TRANSITIONS.values():
        assert targets <= set(Status.values)
    assert TRANSITIONS[Status.EXPORTED] == frozenset({Status.NEEDS_REVIEW})
    assert TRANSITIONS[Status.SUPERSEDED] == frozenset()
    assert not is_legal(Status.OUTCOME_UNKNOWN, Status.CANCELLED)  # the vendor may hold it


@pytest.mark.parametrize(("current", "target"), PAIRS)
def test_record_transition_allows_exactly_the_table(org, current, target):
    record = make_record(org, status=current)
    if is_legal(current, target):
        record_transition(record=record, to=target)
        record.refresh_from_db()
        assert record.status == target
    else:
        with pytest.raises(IllegalTransition):
            record_transition(record=record, to=target)
        record.refresh_from_db()
        assert record.status == current


@pytest.mark.parametrize(("current", "target"), PAIRS)
def test_plain_save_cannot_bypass_the_table(org, current, target):
    record = make_record(org, status=current)
    record = ExportRecord.objects.get(pk=record.pk)
    record.status = target
    if is_legal(current, target):
        record.save()
    else:
        with pytest.raises(IllegalTransition):
            record.save()


def test_compare_and_set_refuses_a_stale_view(org):
    record = make_record(org, status=Status.PENDING)
    stale = ExportRecord.objects.get(pk=record.pk)
    record_transition(record=record, to=Status.IN_PROGRESS)
    with pytest.raises(IllegalTransition):  # illegal from what it is now
        record_transition(record=stale, to=Status.IN_PROGRESS)
    with pytest.raises(StaleRecord):  # legal from both, but someone moved it first: re-read and decide
        record_transition(record=stale, to=Status.SUPERSEDED)
    assert ExportRecord.objects.get(pk=record.pk).status == Status.IN_PROGRESS


@pytest.mark.parametrize("status", Status.values)
def test_service_actions_only_move_along_the_table(org, status):
    """cancel / retry now / re-export from every status: either a legal move or a refusal."""
    for action in (lambda r: actions.record_cancel(record=r), lambda r: actions.record_retry_now(record=r),
                   lambda r: actions.record_reexport(record=r),
                   lambda r: actions.record_apply_callback(record=r, status="exported", external_id="X"),
                   lambda r: actions.record_apply_callback(record=r, status="needs_review", detail="no")):
        record = make_record(org, status=status, kind="statement_transaction")
        try:
            action(record)
        except (actions.ExportError, IllegalTransition):
            pass
        after = ExportRecord.objects.get(pk=record.pk).status
        assert after == status or is_legal(status, after), (status, after)


@pytest.mark.parametrize("status", Status.values)
def test_admin_actions_only_move_along_the_table(admin_client, org, status):
    for name in ("retry_now", "cancel_record", "re_export"):
        record = make_record(org, status=status)
        url = reverse(f"admin:exports_exportrecord_{name}", args=[record.pk])
        assert admin_confirm(admin_client, url).status_code == 302
        after = ExportRecord.objects.get(pk=record.pk).status
        assert after == status or is_legal(status, after), (name, status, after)


def test_admin_change_form_cannot_edit_the_status(admin_client, org):
    record = make_record(org, status=Status.NEEDS_REVIEW)
    url = reverse("admin:exports_exportrecord_change", args=[record.pk])
    assert admin_client.get(url).status_code == 200
    admin_client.post(url, {"status": Status.EXPORTED, "external_id": "hack"})
    record.refresh_from_db()
    assert record.status == Status.NEEDS_REVIEW and record.external_id == ""
