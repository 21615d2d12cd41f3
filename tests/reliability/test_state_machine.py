"""T10: a Hypothesis state machine over the whole path (signed intake → records → worker → Wafeq
sandbox over HTTP), mixing approvals, edits (new versions), cancellations, pushes, lost responses,
5xx, killed workers (a claim abandoned before or after the vendor committed) and duplicate
deliveries. Invariants are checked on the vendor's ledger after every step, and at quiescence.

Workers are simulated in-process here (a "kill" abandons a claim exactly where a SIGKILL would);
the real-process kills are T3/T4/T8. Every example gets a fresh organisation and a reset sandbox.
"""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from connectors import errors
from connectors.base import connector_for
from connectors.breaker import breaker_reset
from connectors.wafeq.sandbox import testkit
from exports.entries import entry_to_json
from exports.models import ExportRecord, Kind, ReviewItem
from exports.services import gates
from exports.services.claiming import lease_seconds, records_claim_due
from exports.services.resolution import record_resolve
from exports.services.sweeper import leases_expire
from exports.services.worker import records_work_due
from exports.transitions import Status

from .conftest import approved, cancelled, deliver, expense, make_due, map_categories

EXPENSES = [f"exp_{i}" for i in range(4)]
_orgs = itertools.count(1)


def reference(eid, version):
    return f"EXPENSICO-{eid}-v{version}"


class ExactlyOnce(RuleBasedStateMachine):
    sandbox = None  # set by the test

    @initialize()
    def fresh_world(self):
        from expensico_sync.core.services import organization_create

        self.sandbox.app.reset()
        self.org = organization_create(slug=f"sm-{next(_orgs)}", name="State machine", base_currency="SAR",
                                       country="SA", mode="live")
        self.conn = testkit.connect(self.sandbox, self.org)
        self.conn.settings = {**self.conn.settings, "rate_limit_per_second": 1000}
        self.conn.save(update_fields=["settings"])
        map_categories(self.conn, self.sandbox)
        self.model: dict[str, dict] = {}      # eid → {"version", "amount", "cancelled"}
        self.sent: list[tuple[str, dict]] = []
        self.ids = itertools.count(1)

    # --- the source -------------------------------------------------------------------------
    def _send(self, body):
        webhook_id = f"msg_{self.org.slug}_{next(self.ids)}"
        self.sent.append((webhook_id, body))
        result = deliver(self.org, body, webhook_id)
        assert result.status == 202, result.body

    @rule(eid=st.sampled_from(EXPENSES), cents=st.integers(1, 99_999))
    def approve(self, eid, cents):
        if eid in self.model:
            return
        amount = Decimal(cents) / 100
        self._send(approved(expense(eid, amount=f"{amount:.2f}"), rid=f"rpt_{eid}"))
        self.model[eid] = {"version": 1, "amount": amount, "cancelled": False}

    @rule(eid=st.sampled_from(EXPENSES), cents=st.integers(1, 99_999))
    def edit(self, eid, cents):
        state = self.model.get(eid)
        if not state or state["cancelled"]:
            return
        amount, version = Decimal(cents) / 100, state["version"] + 1
        self._send(approved(expense(eid, version=version, amount=f"{amount:.2f}"), rid=f"rpt_{eid}"))
        state.update(version=version, amount=amount)

    @rule(eid=st.sampled_from(EXPENSES))
    def cancel(self, eid):
        state = self.model.get(eid)
        if not state or state["cancelled"]:
            return
        self._send(cancelled(eid, version=state["version"], rid=f"rpt_{eid}"))
        state["cancelled"] = True

    @precondition(lambda self: self.sent)
    @rule(pick=st.integers(0, 10_000))
    def duplicate_delivery(self, pick):
        webhook_id, body = self.sent[pick % len(self.sent)]
        result = deliver(self.org, body, webhook_id)
        assert result.status == 200 and result.body == {"status": "duplicate"}

    # --- the worker and the faults -----------------------------------------------------------
    @rule(limit=st.integers(1, 6))
    def push(self, limit):
        make_due()
        records_work_due(limit=limit)

    @rule(count=st.sampled_from([1, 3]))
    def lost_response(self, count):
        self.sandbox.app.inject("drop_after_commit", count=count, method="POST", path="/expenses/")

    @rule(count=st.integers(1, 3))
    def server_error(self, count):
        self.sandbox.app.inject("server_error", count=count, method="POST")

    @rule(limit=st.integers(1, 3), after_sending=st.booleans())
    def kill(self, limit, after_sending):
        """A worker claims records and dies, before or after the vendor committed the push."""
        make_due()
        for record in records_claim_due(limit=limit):
            # As the worker does before sending: nothing goes out for a version the source moved past.
            if not after_sending or record.kind != Kind.EXPENSE or gates.source_moot(record):
                continue
            resolution = record_resolve(record=record)
            if resolution.entry is not None:
                # As the worker does: the entry is stored before anything goes out (a reversal mirrors it).
                ExportRecord.objects.filter(pk=record.pk).update(entry_preview=entry_to_json(resolution.entry))
                try:
                    connector_for(record.connection).push(resolution.entry, str(record.idempotency_key))
                except errors.ConnectorError:
                    pass

    @rule()
    def leases_lapse(self):
        leases_expire(now=timezone.now() + timedelta(seconds=lease_seconds() + 1))

    # --- invariants ---------------------------------------------------------------------------
    def _live(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for doc in self.sandbox.app.documents("expenses"):
            out.setdefault(doc["reference"], []).append(doc)
        return out

    @invariant()
    def at_most_one_live_document_per_reference(self):
        if not hasattr(self, "org"):
            return
        duplicates = {ref: len(docs) for ref, docs in self._live().items() if len(docs) > 1}
        assert not duplicates, duplicates

    def _reversal_held(self, ref) -> bool:
        """A booked document whose undoing waits for a person (its reversal has an open review item)."""
        return ReviewItem.objects.filter(record__connection=self.conn, record__kind=Kind.REVERSAL,
                                         record__reverses__reference=ref, resolved_at__isnull=True).exists()

    def teardown(self):
        if not hasattr(self, "org"):
            return
        self._quiesce()
        self._check_settled()

    def _quiesce(self):
        self.sandbox.app.clear_faults()
        for _ in range(30):
            # Quiescence is "after enough time": the breaker's cool-down and every lease have passed.
            breaker_reset(connection=self.conn)
            leases_expire(now=timezone.now() + timedelta(seconds=lease_seconds() + 1))
            make_due()
            if not records_work_due(limit=100):
                break
        open_ = ExportRecord.objects.filter(connection=self.conn, status__in=[
            Status.PENDING, Status.RETRY, Status.IN_PROGRESS, Status.OUTCOME_UNKNOWN])
        assert not open_.exists(), list(open_.values("reference", "status", "last_error"))

    def _check_settled(self):
        live = self._live()
        assert all(len(docs) == 1 for docs in live.values()), live
        booked = Decimal("0")
        for eid, state in self.model.items():
            records = ExportRecord.objects.filter(connection=self.conn, kind=Kind.EXPENSE, source_id=eid)
            older = [reference(eid, v) for v in range(1, state["version"])]
            assert not any(ref in live and not self._reversal_held(ref) for ref in older), (
                eid, "an older version is still booked")
            current = reference(eid, state["version"])
            if state["cancelled"]:
                assert current not in live or self._reversal_held(current), (eid, "cancelled but still booked")
                continue
            record = records.get(source_version=state["version"])
            if record.status == Status.EXPORTED:
                assert current in live and live[current][0]["id"] == record.external_id, (eid, record.status)
                booked += state["amount"]
            else:
                assert record.status == Status.NEEDS_REVIEW, (eid, record.status, record.last_error)
                assert ReviewItem.objects.filter(record=record, resolved_at__isnull=True).exists()
                assert current not in live
        # Nothing at the vendor that we do not account for, and the money agrees to the halala.
        expected_refs = {reference(e, s["version"]) for e, s in self.model.items() if not s["cancelled"]}
        held_for_review = {ref for ref in live if ref not in expected_refs and self._reversal_held(ref)}
        assert set(live) <= expected_refs | held_for_review, set(live) - expected_refs
        remote = sum((Decimal(str(docs[0]["amount"])) for ref, docs in live.items() if ref not in held_for_review),
                     Decimal("0"))
        assert remote.quantize(Decimal("0.01")) == booked.quantize(Decimal("0.01")), (remote, booked)


@pytest.mark.django_db
def test_t10_exactly_once_state_machine(sandbox):
    ExactlyOnce.sandbox = sandbox
    run_state_machine_as_test(ExactlyOnce, settings=settings(
        max_examples=60, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
