"""`make run`: a ready mapping set for the demo connection, with one gap left on purpose.

Runs after the connectors seed (which connects the Wafeq sandbox). Refreshes the catalog, maps
the simulator's categories to the best-matching expense accounts, VAT15 to the purchase VAT
rate, cost centres and projects to the sandbox's, and adds hold rules (missing receipt, large
claims).
Driver honorarium is left unmapped so the gap screen and the re-queue on fixing it can be seen.
Idempotent: existing mappings are never overwritten.
"""

from decimal import Decimal
from itertools import cycle

from connectors.models import Connection

from .models import CategoryMapping, CurrencyPolicy, DimensionMapping, HoldRule, RemoteCatalogItem, TaxMapping
from .services import catalog_refresh
from .suggest import suggest_accounts

LEFT_AS_A_GAP = {"DRV", "OLD"}
DEMO_DIMENSIONS = {"cost_center": ["CC-100", "CC-200", "CC-300"], "project": ["PRJ-ALPHA", "PRJ-NEOM"]}


def _categories(org) -> list[tuple[str, str]]:
    from expensico_sync.source.models import Category
    from expensico_sync.source.simulator.generator import CATEGORIES

    known = list(Category.objects.filter(organization=org).values_list("code", "name"))
    return known or [(code, name) for code, name, _ in CATEGORIES]


def seed(ctx):
    org = ctx["organization"]
    qs = Connection.objects.filter(organization=org)
    connection = (qs.filter(pk=ctx["connection_id"]).first() if ctx.get("connection_id") else None) or \
        qs.order_by("pk").first()
    if connection is None:
        print("  mappings: no connection to map")
        return
    try:
        counts = catalog_refresh(connection=connection)
    except Exception as exc:  # noqa: BLE001  the demo carries on; the gap screen shows what is missing
        print(f"  mappings: catalog refresh failed ({exc}); nothing seeded")
        return
    mapped = 0
    for code, name in _categories(org):
        if code in LEFT_AS_A_GAP:
            continue
        best = next(iter(suggest_accounts(connection=connection, text=name, category_code=code, limit=1)), None)
        if best is None:
            continue
        _, created = CategoryMapping.objects.get_or_create(
            connection=connection, category_code=code, funding_source="", expense_type="",
            defaults={"category_name": name, "account": best.remote_id, "account_name": best.name})
        mapped += created
    rates = RemoteCatalogItem.objects.filter(connection=connection, kind="tax_rates")
    vat15 = next((r for r in rates if "15" in r.name and "sales" not in r.name.lower()), None)
    TaxMapping.objects.get_or_create(connection=connection, tax_code="VAT15", defaults={
        "tax_rate": vat15.remote_id if vat15 else "", "tax_rate_name": vat15.name if vat15 else ""})
    # Foreign VAT (AED 5%) is not recoverable here: booked into the cost, without a rate.
    TaxMapping.objects.get_or_create(connection=connection, tax_code="VAT5", defaults={"tax_rate_name": ""})
    CurrencyPolicy.objects.get_or_create(connection=connection, defaults={"rate_source": "expensico"})
    dimensions = RemoteCatalogItem.objects.filter(connection=connection, kind="dimensions")
    for key, values in DEMO_DIMENSIONS.items():
        remote = list(dimensions.filter(classification=key).order_by("name"))
        # A sandbox may hold fewer values than the demo uses: share them rather than leave a gap.
        for value, item in zip(values, cycle(remote), strict=False) if remote else ():
            DimensionMapping.objects.get_or_create(connection=connection, dimension_key=key, value=value, defaults={
                "remote_kind": key, "remote_id": item.remote_id, "remote_name": item.name})
    HoldRule.objects.get_or_create(connection=connection, name="Missing receipt", defaults={"missing_receipt": True})
    HoldRule.objects.get_or_create(connection=connection, name="Large claims", defaults={
        "amount_over": Decimal("20000"), "currency": "SAR", "funding_source": "reimbursable"})
    print(f"  mappings: catalog {counts}; {mapped} categories mapped, "
          f"{', '.join(sorted(LEFT_AS_A_GAP))} left unmapped to show gap detection")
