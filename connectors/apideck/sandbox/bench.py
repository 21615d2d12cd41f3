"""What bench/export.py needs of Apideck (the fields of `bench.systems.System`). Loads no Django:
the benchmark reads it before setting Django up; the hooks run inside the sandbox process."""


def _travel_account(server) -> str:
    from ..schema import encode_account_id

    return encode_account_id("6100", "Standard")


PROFILE = {"limit": None, "limit_note": "none of Apideck's own", "travel_account": _travel_account,
           "settings": {"default_cost_center": "CC100"}}


def copy_document(server, external_id: str, reference: str, on) -> str:
    """bench/reconcile.py's set-up: the journal entry `external_id` (pushed once through the
    connector) copied in the sandbox's books under `reference` (its `number`) and posted on `on`
    (a date); no request is made, so 10,000 documents are seeded in seconds. The copy's id."""
    import secrets

    from ...sandboxing.copies import relabelled

    app = server.app
    with app.lock:
        template = app.journal_entries[external_id]
        row = relabelled(template, {template["number"]: reference, template["posted_at"][:10]: on.isoformat()})
        wid = secrets.token_hex(16)
        row.update(id=wid, downstream_id=wid)
        app.journal_entries[wid] = row
        return wid
