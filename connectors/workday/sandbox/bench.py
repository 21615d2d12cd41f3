"""What bench/export.py needs of Workday (the fields of `bench.systems.System`). Loads no Django:
the benchmark reads it before setting Django up; the hooks run inside the sandbox process."""


def _travel_account(server) -> str:
    return "Standard/6100"


PROFILE = {"limit": None, "limit_note": "none documented", "travel_account": _travel_account,
           "settings": {"default_cost_center": "CC100"}}


def copy_document(server, external_id: str, reference: str, on) -> str:
    """bench/reconcile.py's set-up: the journal `external_id` (a WID, pushed once through the
    connector) copied in the sandbox's books under `reference` (its Accounting_Journal_ID) and
    dated `on` (a date), with the next journal number; no request is made. The copy's WID."""
    from ...sandboxing.copies import relabelled
    from .soap import new_wid

    app = server.app
    with app.lock:
        template = app.journals[external_id]
        journal = relabelled(template, {template["journal_id"]: reference,
                                        template["accounting_date"]: on.isoformat()})
        app.sequence += 1
        journal.update(wid=new_wid(), journal_number=f"JE-{app.sequence:06d}")
        app.journals[journal["wid"]] = journal
        return journal["wid"]
