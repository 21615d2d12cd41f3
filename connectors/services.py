"""Connection services (seed 000 steps 1–6). Each records intent, calls the vendor outside any
transaction, then records the outcome; simple-history keeps the audit trail of every save."""

from dataclasses import asdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .base import AccountPurpose, AccountSpec, CatalogItem, CatalogKind, CheckResult, connector_for
from .breaker import breaker_reset
from .errors import AuthExpired, ConnectorError
from .hosts import credential_url_check
from .models import URL_SETTINGS, CallLog, Connection

PURPOSE_FIELDS = {
    AccountPurpose.EMPLOYEE_CLAIMS: "employee_claims_account",
    AccountPurpose.EMPLOYEES_BALANCE: "employees_balance_account",
    AccountPurpose.FUNDING_BANK: "funding_bank_account",
}
DEFAULT_NAMES = {
    AccountPurpose.EMPLOYEE_CLAIMS: "Expensico – Employee Claims",
    AccountPurpose.EMPLOYEES_BALANCE: "Expensico – Employees Balance",
    AccountPurpose.FUNDING_BANK: "Expensico Bank Account",
}
# Longer than any calendar month: monthly request counts (Xledger bills per request) read the log.
CALL_LOG_RETENTION_DAYS = 35


def connection_create(*, organization, system: str, name: str, base_url: str,
                      auth_method: str = Connection.AuthMethod.API_KEY, api_key: str = "", client_id: str = "",
                      client_secret: str = "", settings: dict | None = None, active: bool = True) -> Connection:
    from .base import connector_class
    connector_class(system)  # unknown systems fail here, not at the first push
    credential_url_check(system=system, url=base_url)
    for key in URL_SETTINGS:
        if (settings or {}).get(key):
            credential_url_check(system=system, url=str((settings or {})[key]), field="settings")
    return Connection.objects.create(organization=organization, system=system, name=name, base_url=base_url,
                                     auth_method=auth_method, api_key=api_key, client_id=client_id,
                                     client_secret=client_secret, settings=settings or {}, active=active)


def connection_activate(*, connection: Connection, export_from) -> Connection:
    """Exports start flowing: documents dated from `export_from` on (nothing before it)."""
    from .setup_steps import connection_activated

    if connection.active:
        raise ValueError("the connection is already active")
    if not connection.has_credentials:
        raise ValueError("credentials: connect the accounting system first")
    with transaction.atomic():
        connection.active, connection.export_from, connection.activated_at = True, export_from, timezone.now()
        connection.save(update_fields=["active", "export_from", "activated_at", "updated_at"])
        connection_activated.send(sender=Connection, connection=connection, export_from=export_from)
    return connection


def connections_same_company(*, connection: Connection) -> list[Connection]:
    """Other connections of the organisation that point at the same vendor company or tenant: the
    same system and API address, or the same company/tenant id learned by the check."""
    from .vendor_settings import vendor_settings_class

    keys = vendor_settings_class(connection.system).company_keys
    ids = {k: v for k, v in (connection.settings or {}).items() if k in keys and v}
    out = []
    for other in Connection.objects.filter(organization_id=connection.organization_id,
                                           system=connection.system).exclude(pk=connection.pk):
        theirs = other.settings if isinstance(other.settings, dict) else {}
        if (other.base_url.rstrip("/").lower() == connection.base_url.rstrip("/").lower()
                or any(theirs.get(k) == v for k, v in ids.items())):
            out.append(other)
    return out


def connection_check(*, connection: Connection) -> CheckResult:
    """Any taxonomy error is the check's answer (ok=False, the error kept on the result), so the
    admin and setup flows show it; the API tells a vendor's broken answer apart by the error."""
    connector = connector_for(connection)
    try:
        result = connector.check()
    except ConnectorError as exc:
        result = CheckResult(ok=False, detail=f"{type(exc).__name__}: {exc.message}", error=exc)
        status = Connection.Status.EXPIRED if isinstance(exc, AuthExpired) else Connection.Status.ERROR
    else:
        status = Connection.Status.CONNECTED
    connection.refresh_from_db(fields=["access_token", "refresh_token", "token_expires_at", "settings"])
    connection.settings = {**connection.settings, **connector.learned}
    connection.status = status
    connection.last_checked_at = timezone.now()
    connection.last_check_ok = result.ok
    connection.last_check_detail = " · ".join(part for part in (result.organization_name, result.detail) if part)
    connection.save(update_fields=["status", "last_checked_at", "last_check_ok", "last_check_detail", "settings",
                                   "updated_at"])
    return result


def connection_catalog_fetch(*, connection: Connection, kind: CatalogKind) -> list[CatalogItem]:
    """Fetches a catalog; the EXPENSE accounts are kept on the connection for the mapping screens."""
    items = connector_for(connection).catalog(kind)
    if kind == CatalogKind.ACCOUNTS:
        expense = [{"id": i.remote_id, "code": i.code, "name": i.name} for i in items if i.classification == "EXPENSE"]
        with transaction.atomic():
            row = Connection.objects.select_for_update().get(pk=connection.pk)
            row.settings = {**row.settings, "expense_accounts": expense,
                            "catalog_fetched_at": timezone.now().isoformat()}
            row.save(update_fields=["settings", "updated_at"])
        connection.settings = row.settings
    return items


def connection_configure(*, connection: Connection, choices: dict[AccountPurpose, str] | None = None,
                         names: dict[AccountPurpose, str] | None = None) -> Connection:
    """Steps 4–6: use the chosen remote account per purpose, or find-or-create the default one.
    `ensure_account` finds by name first, so re-running creates nothing twice."""
    choices, names = choices or {}, names or {}
    connector = connector_for(connection)
    chosen: dict[AccountPurpose, CatalogItem] = {}
    for purpose in PURPOSE_FIELDS:
        remote_id = choices.get(purpose)
        if remote_id:
            kind = CatalogKind.BANK_ACCOUNTS if purpose is AccountPurpose.FUNDING_BANK else CatalogKind.ACCOUNTS
            match = [i for i in connector.catalog(kind) if i.remote_id == remote_id]
            if not match:
                raise ValueError(f"{remote_id} is not in the {kind} catalog")
            chosen[purpose] = match[0]
        else:
            chosen[purpose] = connector.ensure_account(AccountSpec(
                purpose=purpose, name=names.get(purpose) or DEFAULT_NAMES[purpose],
                currency=connection.organization.base_currency))
    for purpose, item in chosen.items():
        setattr(connection, PURPOSE_FIELDS[purpose], item.remote_id)
        setattr(connection, PURPOSE_FIELDS[purpose] + "_name", item.name)
    bank = chosen[AccountPurpose.FUNDING_BANK]
    connection.settings = {**connection.settings, "funding_bank_gl_account": bank.extra.get("account", ""),
                           "configured_at": timezone.now().isoformat(),
                           "accounts": {str(p): asdict(i) | {"kind": str(i.kind)} for p, i in chosen.items()}}
    connection.save()
    return connection


def connection_setup_run(*, connection: Connection) -> dict:
    """The whole setup after connecting: test, fetch EXPENSE accounts, choose/create the three."""
    result = connection_check(connection=connection)
    if not result.ok:
        return {"ok": False, "detail": result.detail}
    items = connection_catalog_fetch(connection=connection, kind=CatalogKind.ACCOUNTS)
    connection_configure(connection=connection)
    return {"ok": True, "detail": result.detail, "expense_accounts": sum(i.classification == "EXPENSE" for i in items)}


def connection_breaker_reset(*, connection: Connection) -> None:
    breaker_reset(connection=connection)


def call_log_prune(*, days: int = CALL_LOG_RETENTION_DAYS) -> int:
    deleted, _ = CallLog.objects.filter(created_at__lt=timezone.now() - timedelta(days=days)).delete()
    return deleted
