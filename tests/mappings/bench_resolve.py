"""Throughput of the pure resolver: `.venv/bin/python tests/mappings/bench_resolve.py`.

Not a test (no assertions on timing): prints documents per second for 20,000 generated expenses
(a third in KWD converted to SAR, mixed tax, card/claim, one dimension each).
"""

import os
import random
import sys
import time
from datetime import date
from decimal import Decimal


def main():
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expensico_sync.settings")
    import django

    django.setup()
    from mappings.documents import ExpenseDocument
    from mappings.resolve import resolve
    from mappings.settings import ConnectionSettings
    from mappings.snapshot import CategoryRule, DimensionRule, MappingSnapshot, TaxRule

    r = random.Random(1)
    snap = MappingSnapshot(
        version="v", base_currency="SAR", categories={(f"C{i}", "", ""): CategoryRule(f"a{i}") for i in range(50)},
        taxes={"VAT15": TaxRule("t15"), "VATS": TaxRule("t15", "as_document", True, "1500")},
        dimensions={("cost_center", f"CC-{i}"): DimensionRule("cost_center", f"cc{i}") for i in range(20)},
        rates={"KWD": ((date(2026, 1, 1), Decimal("12.2")),)})
    settings = ConnectionSettings("2100", "1400", "1010", "SAR", True)
    docs = [ExpenseDocument(
        source_id=f"exp_{i}", version=1, type="expense", date=date(2026, 3, 1),
        amount=Decimal(r.randint(-5000, 500000)).scaleb(-2) if i % 3 else Decimal(r.randint(1, 90000)).scaleb(-3),
        currency="SAR" if i % 3 else "KWD", category_code=f"C{r.randint(0, 49)}",
        funding_source=r.choice(["card", "reimbursable"]), tax_code=r.choice(["", "VAT15", "VATS"]),
        tax_rate=Decimal(15), tax_inclusive=r.random() < .7, dimensions=(("cost_center", f"CC-{r.randint(0, 19)}"),))
        for i in range(20000)]
    started = time.perf_counter()
    for doc in docs:
        resolve(doc, snap, settings)
    elapsed = time.perf_counter() - started
    print(f"resolve: {len(docs)} expense documents in {elapsed:.2f}s = {len(docs) / elapsed:,.0f}/s "
          f"({elapsed / len(docs) * 1e6:.0f} µs each)")


if __name__ == "__main__":
    main()
