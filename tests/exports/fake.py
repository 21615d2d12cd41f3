"""An in-memory vendor behind the real Connector interface: a dict ledger per connection and
fault switches, so the export engine's decisions can be driven one fault at a time."""

import itertools
from collections.abc import Sequence

from connectors import errors
from connectors.base import CheckResult, Connector, PushResult, RemoteDocument

_ids = itertools.count(1)


class FakeVendor:
    """State shared by every FakeConnector of one connection (the 'remote system')."""

    def __init__(self):
        self.documents: dict[str, dict] = {}       # reference -> {"id", "entry", "live"}
        self.by_key: dict[str, str] = {}           # idempotency key -> reference
        self.faults: list[str] = []                # consumed one per push/reverse call
        self.find_faults: list[str] = []
        self.pushes = 0
        self.finds = 0
        self.reversals: list[str] = []
        self.warnings: tuple[str, ...] = ()        # returned by every push/reverse: a person must look
        self.notes: tuple[str, ...] = ()           # returned by every reverse: informational
        self.locked_through = None                 # a date: postings on or before it are refused
        self.says_period_end = True                # whether the refusal names where the period ends
        self.keys_refused: list[str] = []          # idempotency keys of refused postings

    def refuse_closed(self, entry, key):
        if self.locked_through is not None and entry.date <= self.locked_through:
            self.keys_refused.append(key)
            end = self.locked_through.isoformat() if self.says_period_end else None
            raise errors.PeriodClosed(f"period closed through {self.locked_through}", period_end=end, status=400)

    def take(self, queue):
        return queue.pop(0) if queue else None


VENDORS: dict[int, FakeVendor] = {}


def vendor_for(connection) -> FakeVendor:
    return VENDORS.setdefault(connection.pk, FakeVendor())


def _raise(fault):
    if fault == "transient":
        raise errors.Transient("503 from fake", status=503, request_id="req-503")
    if fault == "rate_limited":
        raise errors.RateLimited(retry_after=7, status=429)
    if fault == "unknown":
        raise errors.OutcomeUnknown("read timeout")
    if fault == "permanent":
        raise errors.Permanent("account is archived", code="invalid_account", field="account", status=400)
    if fault == "duplicate":
        raise errors.Permanent("reference already used", code="duplicate", field="reference", status=409)
    if fault == "auth":
        raise errors.AuthExpired("token revoked", status=401)
    if fault == "boom":
        raise RuntimeError("unexpected bug")


class FakeConnector(Connector):
    """Registered only while an exports test runs (see conftest), so suites that walk the
    registry (tests/contract) never see it."""

    system = "fake"
    label = "Fake ledger"

    @property
    def vendor(self) -> FakeVendor:
        return vendor_for(self.connection)

    def check(self):
        return CheckResult(ok=True)

    def catalog(self, kind):
        return []

    def ensure_account(self, spec):
        raise NotImplementedError

    def preview(self, entry):
        return {"reference": entry.reference, "amount": str(entry.gross)}

    def push(self, entry, idempotency_key):
        v = self.vendor
        v.pushes += 1
        fault = v.take(v.faults)
        if fault == "unknown_committed":       # stored, but the response never arrives
            self._store(entry, idempotency_key)
            raise errors.OutcomeUnknown("connection reset after send")
        _raise(fault)
        v.refuse_closed(entry, idempotency_key)
        if idempotency_key in v.by_key:
            ref = v.by_key[idempotency_key]
            return PushResult(external_id=v.documents[ref]["id"], replayed=True)
        return PushResult(external_id=self._store(entry, idempotency_key), request_id=f"req-{v.pushes}",
                          warnings=v.warnings)

    def _store(self, entry, key):
        doc_id = f"doc-{next(_ids)}"
        self.vendor.documents[entry.reference] = {"id": doc_id, "entry": entry, "live": True}
        self.vendor.by_key[key] = entry.reference
        return doc_id

    def find_by_reference(self, references: Sequence[str]):
        v = self.vendor
        v.finds += 1
        _raise(v.take(v.find_faults))
        return {ref: RemoteDocument(reference=ref, external_id=d["id"], live=d["live"])
                for ref, d in v.documents.items() if ref in references}

    def reverse(self, external_id, entry, idempotency_key):
        v = self.vendor
        _raise(v.take(v.faults))
        v.refuse_closed(entry, idempotency_key)
        for doc in v.documents.values():
            if doc["id"] == external_id:
                doc["live"] = False
        v.reversals.append(external_id)
        v.documents[entry.reference] = {"id": f"rev-{external_id}", "entry": entry, "live": True}
        return PushResult(external_id=f"rev-{external_id}", warnings=v.warnings, notes=v.notes)
