"""The setup's slow vendor calls (reading the chart of accounts, creating or choosing the three
accounts) run as a django-q2 task, not in the request: the page shows their progress and then
their result. The state lives in the cache under the connection, so a page read changes no row."""

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext, gettext_noop
from django_q.tasks import async_task

from .base import AccountPurpose, CatalogKind, connector_for
from .errors import ConnectorError
from .models import Connection
from .services import DEFAULT_NAMES, connection_catalog_fetch, connection_configure

FETCH, ACCOUNTS = "fetch", "accounts"
KEEP_SECONDS = 3600
# Labels and messages are kept in the cache as msgids: the page shows them in the reader's language.
PURPOSES = [
    (AccountPurpose.EMPLOYEE_CLAIMS, gettext_noop("Employee Claims (current liability, payment-enabled)"),
     "LIABILITY", "CURRENT_LIABILITY"),
    (AccountPurpose.EMPLOYEES_BALANCE, gettext_noop("Employees Balance (current asset, payment-enabled)"),
     "ASSET", "CURRENT_ASSET"),
    (AccountPurpose.FUNDING_BANK, gettext_noop("Funding bank account"), None, None),
]
FIELD_FOR = {AccountPurpose.EMPLOYEE_CLAIMS: "employee_claims_account",
             AccountPurpose.EMPLOYEES_BALANCE: "employees_balance_account",
             AccountPurpose.FUNDING_BANK: "funding_bank_account"}


def _key(connection_id: int) -> str:
    return f"connectors:setup-job:{connection_id}"


def setup_job_state(*, connection_id: int) -> dict[str, Any] | None:
    """The last job's state: running (with its start), done (with its result) or failed. A job
    still "running" after the task time limit was lost with its worker: failed."""
    state = cache.get(_key(connection_id))
    if state and state["state"] == "running" and time.time() - state["started"] > settings.Q_CLUSTER["timeout"]:
        return {**state, "state": "failed", "error": gettext("the task did not finish (its worker stopped); try again")}
    return state


def setup_job_start(*, connection: Connection, kind: str, choices: dict[str, str] | None = None) -> None:
    if kind not in (FETCH, ACCOUNTS):
        raise ValueError(f"kind: {kind!r} is neither {FETCH!r} nor {ACCOUNTS!r}")
    cache.set(_key(connection.pk), {"kind": kind, "state": "running", "started": time.time()}, KEEP_SECONDS)
    async_task("connectors.tasks.setup_job_task", connection.pk, kind, choices or {})


def setup_job_run(*, connection_id: int, kind: str, choices: dict[str, str]) -> dict[str, Any]:
    conn = Connection.objects.get(pk=connection_id)
    started = (cache.get(_key(connection_id)) or {}).get("started", time.time())
    try:
        if kind == FETCH:
            result: dict[str, Any] = {"choices": _choices(conn)}
        else:
            connection_configure(connection=conn, choices={AccountPurpose(p): v for p, v in choices.items() if v})
            result = {"message": gettext_noop("Accounts saved on the connection.")}
    except (ConnectorError, ValueError) as exc:
        state = {"kind": kind, "state": "failed", "started": started, "error": f"{type(exc).__name__}: {exc}"}
    else:
        state = {"kind": kind, "state": "done", "started": started, "finished": time.time(), **result}
    cache.set(_key(connection_id), state, KEEP_SECONDS)
    return state


def _choices(conn: Connection) -> list[dict[str, Any]]:
    accounts = connection_catalog_fetch(connection=conn, kind=CatalogKind.ACCOUNTS)
    banks = connector_for(conn).catalog(CatalogKind.BANK_ACCOUNTS)
    return [{
        "key": str(p), "label": label, "default_name": DEFAULT_NAMES[p],
        "options": [{"remote_id": a.remote_id, "code": a.code, "name": a.name}
                    for a in (banks if cls is None else [a for a in accounts if a.classification == cls
                                                         and a.extra.get("sub_classification") == sub])],
    } for p, label, cls, sub in PURPOSES]
