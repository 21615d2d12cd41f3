"""What bench/export.py needs of Xledger (the fields of `bench.systems.System`). Loads no Django:
the benchmark reads it before setting Django up; the hooks run inside the sandbox process."""


def _books_in_sar(server) -> None:
    server.app.tables["entities"][0]["currency"] = {"code": "SAR"}
    server.app._add("currencies", {"code": "SAR", "description": "Saudi riyal"})


def _travel_account(server) -> str:
    from .testkit import _account

    return _account(server, "7140")


def _limits(server, on: bool) -> None:
    with server.app.lock:
        server.app.burst_limit = (20, 5.0) if on else None
        server.app.recent.clear()


PROFILE = {"limit": 4, "limit_note": "burst 20 requests / 5 s", "expenses": 200, "naive_expenses": 40,
           "prepare": _books_in_sar, "travel_account": _travel_account, "vendor_limits": _limits}


def copy_document(server, external_id: str, reference: str, on) -> str:
    """bench/reconcile.py's set-up: the voucher behind `external_id` (pushed once through the
    connector) copied in the sandbox's books under `reference` and dated `on` (a date), as if
    imported; no request is made, so 10,000 documents do not wait on the burst limit. The copy's
    external id, as read-back reports it."""
    import json

    app = server.app
    with app.lock:
        # The template's rows are found once: a scan per copy would make 10,000 copies quadratic.
        templates = app.__dict__.setdefault("bench_templates", {})
        template = templates.get(external_id) or templates.setdefault(
            external_id, app.voucher(external_id.removeprefix("GLI:")))
        first = template["glImportItems"][0]
        old_reference, old_date = first["extIdentifier"], str(first["postedDate"])
        app.call_number = getattr(app, "call_number", 0) + 1
        ids = []
        for table, rows in template.items():
            for row in rows:
                copy = json.loads(json.dumps(row).replace(old_reference, reference).replace(old_date, on.isoformat()))
                app.next_id += 1
                copy.update(dbId=str(app.next_id), _call=app.call_number)
                app.tables[table].append(copy)
                if table == "glImportItems":
                    ids.append(app.next_id)
        return f"GLI:{min(ids)}"
