"""Optional capabilities are declared on the base class with defaults; the engine calls them and
never looks a connector's abilities up by name."""

import ast
from datetime import date
from decimal import Decimal
from pathlib import Path

from connectors.base import Connector, connector_class
from connectors.entry import AccountingEntry, EntryKind, EntryLine, LineRole

CAPABILITIES = {"preview", "payload", "payload_for", "to_payload", "import_failures", "readable_id", "learned",
                "polls_import_failures"}
ROOT = Path(__file__).resolve().parents[2]


class SixVerbsOnly(Connector):
    system = "six_verbs_only"

    def check(self): ...
    def catalog(self, kind): ...
    def ensure_account(self, spec): ...
    def push(self, entry, idempotency_key): ...
    def find_by_reference(self, references): ...
    def reverse(self, external_id, entry, idempotency_key): ...


def entry() -> AccountingEntry:
    return AccountingEntry(kind=EntryKind.EXPENSE, reference="EXPENSICO-e1-v1", date=date(2026, 10, 5), currency="SAR",
                           lines=(EntryLine(role=LineRole.EXPENSE, account="a", debit=Decimal("1.00")),
                                  EntryLine(role=LineRole.PAID_THROUGH, account="b", credit=Decimal("1.00"))))


def test_a_connector_with_only_the_six_verbs_offers_every_capability_as_not_offered():
    connector = SixVerbsOnly(connection=None)
    assert connector.preview(entry()) is None
    assert connector.import_failures(since=None) == [] and not connector.polls_import_failures
    assert SixVerbsOnly.readable_id("acc_1") == "acc_1"
    assert connector.learned == {} and connector.learned is not SixVerbsOnly(connection=None).learned
    assert not connector.reads_back and list(connector.read_back(date_from=date(2026, 10, 1))) == []
    assert connector.read_back_request_budget is None and SixVerbsOnly.vendor_reference("R-1") == "R-1"
    assert connector.ledger_balance("a", date_from=date(2026, 10, 1), date_to=date(2026, 10, 31), currency="SAR") is None


def test_the_vendors_that_offer_a_capability_override_it():
    assert connector_class("xledger").polls_import_failures
    assert connector_class("business_central").preview is not Connector.preview
    assert connector_class("apideck").readable_id is not Connector.readable_id
    for system in ("wafeq", "business_central", "xledger"):
        assert connector_class(system).reads_back and connector_class(system).read_back is not Connector.read_back


def test_no_engine_module_probes_a_connector_by_name():
    probes = []
    for package in ("exports", "mappings", "connectors/services.py"):
        path = ROOT / package
        for source in ([path] if path.is_file() else path.rglob("*.py")):
            for node in ast.walk(ast.parse(source.read_text(), str(source))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("getattr", "hasattr"):
                    name = node.args[1] if len(node.args) > 1 else None
                    if isinstance(name, ast.Constant) and name.value in CAPABILITIES:
                        probes.append(f"{source.relative_to(ROOT)}:{node.lineno}")
                if isinstance(node, ast.Constant) and node.value in ("payload_for", "to_payload"):
                    probes.append(f"{source.relative_to(ROOT)}:{node.lineno}")
    assert probes == []
