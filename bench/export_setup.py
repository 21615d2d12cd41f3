"""What an export benchmark run exports: a live organisation connected to the sandbox through the
vendor's testkit, and approved expenses entered through the source mirror."""

from decimal import Decimal

from bench.sandbox_process import SandboxProcess
from bench.systems import system_for


def books_connect(sandbox: SandboxProcess, *, slug: str, client_rate: int):
    """A live organisation with a connection set up through the vendor's testkit (the contract
    suite's path: create, check, fetch the chart, configure) and the bench's categories mapped."""
    from types import SimpleNamespace

    from expensico_sync.core.services import organization_create
    from mappings.models import CategoryMapping

    system = system_for(sandbox.system)
    org = organization_create(slug=slug, name=f"Bench {slug}", base_currency="SAR", country="SA", mode="live")
    sandbox.limits(on=False, rate=0)  # set-up calls are not what we measure
    info = sandbox.info
    server = SimpleNamespace(base_url=info["base_url"], app=SimpleNamespace(
        ca_bundle=info["ca_bundle"], endpoint_path=info["endpoint_path"]))
    conn = system.kit.connect(server, org)
    conn.settings = {**conn.settings, **system.settings, "rate_limit_per_second": client_rate, "read_timeout": 30}
    conn.save(update_fields=["settings"])
    for code in ("TRAVEL", "MEALS"):
        CategoryMapping.objects.create(connection=conn, category_code=code, account=info["travel_account"])
    return org, conn


def expense_data(eid: str, amount: Decimal) -> dict:
    return {"id": eid, "version": 1, "type": "expense", "date": "2026-11-02", "merchant": f"Careem {eid}",
            "description": "Taxi to client", "description_ar": None,
            "category": {"id": "cat_travel", "code": "TRAVEL", "name": "Travel"},
            "funding_source": "reimbursable", "card": None, "amount": f"{amount:.2f}", "currency": "SAR",
            "exchange_rate": None, "tax": None, "dimensions": {}, "details": {}, "receipts": [], "custom_fields": {}}


def expenses_create(org, *, prefix: str, n: int, per_report: int = 100) -> list[str]:
    """n approved expenses through the source mirror (records are made in the same transaction)."""
    from django.db import transaction

    from expensico_sync.source.mirror import event_apply
    from expensico_sync.source.schemas import validate_event

    refs = []
    for start in range(0, n, per_report):
        batch = [expense_data(f"{prefix}_{i:05d}", Decimal(10 + i % 500) + Decimal("0.25"))
                 for i in range(start, min(n, start + per_report))]
        report = {"id": f"rpt_{prefix}_{start}", "number": f"R-{start}", "title": "Bench",
                  "employee": {"id": "emp_1", "name": "Noura", "email": "n@example.com"},
                  "approved_at": "2026-11-03T10:00:00Z", "approved_by": {"id": "mgr_1", "name": "Omar"},
                  "currency": "SAR", "expenses": batch}
        event = validate_event({"type": "expense_report.approved", "created_at": "2026-11-03T10:00:00Z",
                                "data": {"report": report}})
        with transaction.atomic():
            event_apply(organization=org, event_type=event["type"], data=event["data"])
        refs += [f"EXPENSICO-{e['id']}-v1" for e in batch]
    return refs
