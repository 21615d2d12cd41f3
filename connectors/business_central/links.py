"""A booked document's page in Business Central's web client, built the way Microsoft documents
web-client URLs (learn.microsoft.com/dynamics365/business-central/dev-itpro/developer/
devenv-web-client-urls): `https://businesscentral.dynamics.com/{tenant}/{environment}/?company=…
&page=<id>&filter='<field>' IS '<value>'`.

Linked: a posted journal document (page 20, General Ledger Entries, by Document No.), a purchase
invoice (page 9308 Purchase Invoices while a draft, page 146 Posted Purchase Invoices once posted,
by Vendor Invoice No., which holds our short reference). Not linked: journal lines waiting unposted
in the batch (the page opens on the person's last batch, so no address names them), and any
document while the company's name is not yet known (the check learns it)."""

from urllib.parse import quote, urlencode, urlsplit

from .schema import short_reference
from .settings import BusinessCentralSettings

WEB_CLIENT = "https://businesscentral.dynamics.com"
GENERAL_LEDGER_ENTRIES, PURCHASE_INVOICES, POSTED_PURCHASE_INVOICES = 20, 9308, 146


def _tenant_environment(connection, settings: BusinessCentralSettings) -> tuple[str, str]:
    parts = [p for p in urlsplit(connection.base_url).path.split("/") if p]
    # …/v2.0/{tenant}/{environment}/api/v2.0, or …/v2.0/{environment}/api/v2.0 (tenant from the token)
    if parts[:1] == ["v2.0"] and len(parts) >= 5:
        return settings.tenant or parts[1], parts[2]
    if parts[:1] == ["v2.0"] and len(parts) == 4:
        return settings.tenant, parts[1]
    return settings.tenant, ""


def _value(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def document_url(connection, external_id: str, *, reference: str = "") -> str | None:
    settings = BusinessCentralSettings.of(connection)
    tenant, environment = _tenant_environment(connection, settings)
    if not settings.company_name or not environment:
        return None
    kind, _, ident = external_id.partition(":")
    if kind == "GJ" and settings.post and ident:
        page, field, value = GENERAL_LEDGER_ENTRIES, "Document No.", ident
    elif kind == "PI" and reference:
        page = POSTED_PURCHASE_INVOICES if settings.post else PURCHASE_INVOICES
        field, value = "Vendor Invoice No.", short_reference(reference)
    else:
        return None
    path = "/".join(quote(p, safe="") for p in (tenant, environment) if p)
    query = urlencode({"company": settings.company_name, "page": page, "filter": f"{_value(field)} IS {_value(value)}"},
                      quote_via=quote)
    return f"{WEB_CLIENT}/{path}/?{query}"
