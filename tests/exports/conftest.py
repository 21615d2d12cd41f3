import copy
import hashlib
from datetime import date

import pytest
from django.db import transaction

from connectors.models import Connection
from expensico_sync.core.models import Organization
from expensico_sync.source.mirror import event_apply
from expensico_sync.source.schemas import validate_event
from mappings.models import CategoryMapping

from . import fake


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Built files (evidence packs, reports) go to a temporary directory, not the worktree's var/."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _fake_vendor_registered():
    from connectors import base

    base._registry[fake.FakeConnector.system] = fake.FakeConnector
    fake.VENDORS.clear()
    yield
    fake.VENDORS.clear()
    base._registry.pop(fake.FakeConnector.system, None)


@pytest.fixture
def org(db):
    return Organization.objects.create(slug="acme", name="Acme", base_currency="SAR", mode="live")


def make_connection(org, name="Fake books"):
    return Connection.objects.create(
        organization=org, system="fake", name=name, base_url="http://fake.invalid/",
        employee_claims_account="acc-claims", employees_balance_account="acc-balance",
        funding_bank_account="bank-1", status="connected")


@pytest.fixture
def conn(org):
    connection = make_connection(org)
    for code in ("TRAVEL", "MEALS"):
        CategoryMapping.objects.create(connection=connection, category_code=code, account=f"acc-{code.lower()}")
    return connection


@pytest.fixture
def vendor(conn):
    return fake.vendor_for(conn)


def expense(eid="exp_1", version=1, amount="115.00", category="TRAVEL", **over):
    data = {
        "id": eid, "version": version, "type": "expense", "date": "2026-11-02", "merchant": f"Careem {eid}",
        "description": "Taxi to client", "description_ar": None,
        "category": {"id": f"cat_{category.lower()}", "code": category, "name": category.title()},
        "funding_source": "reimbursable", "card": None, "amount": amount, "currency": "SAR",
        "exchange_rate": None, "tax": None, "dimensions": {}, "details": {},
        "receipts": [{"id": f"rcp_{eid}", "filename": "r.pdf", "content_type": "application/pdf", "size": 10,
                      "sha256": hashlib.sha256(eid.encode()).hexdigest(), "url": "https://files.invalid/r.pdf"}],
        "custom_fields": {},
    }
    data.update(over)
    return data


def report(expenses, rid="rpt_1", employee=("emp_1", "Noura")):
    return {"id": rid, "number": f"R-{rid}", "title": "Trip", "employee": {"id": employee[0], "name": employee[1],
                                                                           "email": "n@example.com"},
            "approved_at": "2026-11-03T10:00:00Z", "approved_by": {"id": "mgr_1", "name": "Omar"},
            "currency": "SAR", "expenses": expenses}


def deliver(org, event_type, data):
    """One validated event through the mirror, in one transaction, as intake does."""
    event = validate_event({"type": event_type, "created_at": "2026-11-03T10:00:00Z", "data": copy.deepcopy(data)})
    with transaction.atomic():
        return event_apply(organization=org, event_type=event["type"], data=event["data"])


def approve(org, *expenses, rid="rpt_1", employee=("emp_1", "Noura")):
    return deliver(org, "expense_report.approved", {"report": report(list(expenses), rid=rid, employee=employee)})


def cancel(org, eid="exp_1", version=1, rid="rpt_1"):
    return deliver(org, "expense.cancelled", {"expense_id": eid, "report_id": rid, "version": version,
                                              "reason": "duplicate claim", "cancelled_at": "2026-11-04T09:00:00Z"})


TODAY = date(2026, 11, 5)
