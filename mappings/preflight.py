"""The mapping screens' pre-flight: the account, tax code or dimension value a person is about
to save, checked against the vendor's cached metadata (never a vendor call), with the same
wording the worker's pre-flight uses when it holds a document."""

from connectors.base import connector_class
from connectors.metadata import connection_metadata_cached
from connectors.preflight import account_findings, value_findings

ACCOUNT_FIELDS = ("account", "tax_account", "fx_account")


def mapping_warnings(*, connection, values: dict[str, str]) -> dict[str, str]:
    """{field: "problem — fix"} for the remote ids in `values` the vendor would refuse."""
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
            found = value_findings(name, remote_id, meta.tax_rates, vendor, what="tax code",
                                   fix="choose an active tax code of this company")
        elif name == "remote_id":
            found = value_findings(name, remote_id, meta.dimensions, vendor, what="dimension value",
                                   fix=f"choose an active value, or reactivate it in {vendor}")
        else:
            continue
        if found:
            out[name] = f"{found[0].problem} — {found[0].fix}"
    return out
