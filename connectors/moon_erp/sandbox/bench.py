"""What bench/export.py needs of Moon ERP (the fields of `bench.systems.System`). Loads no Django:
the benchmark reads it before setting Django up; the hooks run inside the sandbox process."""


def _travel_account(server) -> str:
    return "category:2"


def _limits(server, on: bool) -> None:
    with server.app.lock:
        server.app.throttle_per_minute = 60 if on else None
        server.app._throttle.clear()


# Create the draft, then approve it (its journal entry is the vendor's): two calls per expense.
PROFILE = {"limit": 1, "limit_note": "60 requests / min (inferred)", "min_calls": 2, "expenses": 60,
           "naive_expenses": 15, "travel_account": _travel_account, "vendor_limits": _limits,
           "aliases": ("moon",)}


def copy_document(server, external_id: str, reference: str, on) -> str:
    """bench/reconcile.py's set-up: the approved expense `external_id` (pushed once through the
    connector) and its journal entry copied in the sandbox's books under `reference`, dated `on`
    (a date), with the next document number; no request is made, so 10,000 expenses do not wait
    on 60 requests a minute. The copy's external id (its expense id)."""
    import json

    from ..readback import reference_of

    store = server.app.store
    with server.app.lock:
        expense = store.tables["expenses"][int(external_id)]
        journal = store.tables["journal_entries"][expense["journal_entry_id"]]
        day, template = on.isoformat(), reference_of(expense)

        def copied(row):
            return json.loads(json.dumps(row).replace(template, reference).replace(expense["date"], day))

        # Ids counted here after the first look: the store's max() per copy would be quadratic.
        last = store.__dict__.setdefault("bench_ids", {})

        def next_id(table: str) -> int:
            last[table] = last.get(table) or store.next_id(table) - 1
            last[table] += 1
            return last[table]

        new_expense, new_journal = copied(expense), copied(journal)
        number = store._number(expense["company_id"], day)
        new_expense.update(id=next_id("expenses"), document_number=number)
        store.tables["expenses"][new_expense["id"]] = new_expense
        journal_id = next_id("journal_entries")
        new_journal.update(id=journal_id, source_id=new_expense["id"], reference=number,
                           entry_number=f"JE-{day[:4]}-{journal_id:05d}")
        store.tables["journal_entries"][journal_id] = new_journal
        new_expense["journal_entry_id"] = journal_id
        return str(new_expense["id"])
