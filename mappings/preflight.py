"""The mapping screens' pre-flight: the account, tax code or dimension value a person is about
to save, checked against the vendor's cached metadata (never a vendor call), with the same
wording the worker's pre-flight uses when it holds a document, in the reader's language."""

from django.utils.translation import gettext_noop

from connectors.base import connector_class
from connectors.metadata import connection_metadata_cached
from connectors.preflight import account_findings, value_findings
from expensico_sync.core.texts import register, said

ACCOUNT_FIELDS = ("account", "tax_account", "fx_account")

TEXTS = register({
    "mapping_preflight": gettext_noop("Pre-flight: %(problem)s — %(fix)s"),
    "mapping_tax_fix": gettext_noop("choose an active tax code of this company"),
    "mapping_value_missing": gettext_noop("dimension value %(value)s is not in %(vendor)s"),
    "mapping_value_inactive": gettext_noop("dimension value %(value)s is inactive in %(vendor)s"),
    "mapping_value_fix": gettext_noop("choose an active value, or reactivate it in %(vendor)s"),
})


def mapping_warnings(*, connection, values: dict[str, str]) -> dict[str, str]:
    """{field: "Pre-flight: problem — fix"} for the remote ids in `values` the vendor would refuse,
    in the active language."""
    meta = connection_metadata_cached(connection=connection)
    if meta is None:
        return {}
    vendor = connector_class(connection.system).label or connection.system
    out = {}
    for name, remote_id in values.items():
        if not remote_id:
            continue
        if name in ACCOUNT_FIELDS:
            found = account_findings(name, remote_id, meta, vendor)
        elif name == "tax_rate":
            found = value_findings(name, remote_id, meta.tax_rates, vendor, missing="preflight_tax_missing",
                                   inactive="preflight_tax_inactive", fix="mapping_tax_fix")
        elif name == "remote_id":
            found = value_findings(name, remote_id, meta.dimensions, vendor, missing="mapping_value_missing",
                                   inactive="mapping_value_inactive", fix="mapping_value_fix")
        else:
            continue
        if found:
            out[name] = said("mapping_preflight", problem=found[0].problem, fix=found[0].fix).shown()
    return out
