"""Pre-flight: would the vendor take this entry? Checked against the vendor's own metadata
(accounts, dimension values, tax codes, currencies, its locked period, its mandatory fields)
before anything is sent, so a document the vendor would refuse costs no request.

`VendorMetadata` is what a connector's `preflight_metadata()` capability returns; it is plain
data (kept as JSON by the engine's cache, so a check costs no vendor call per document).
`entry_findings` is pure: an entry and the metadata in, the problems out, each naming the field
and the fix.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from .entry import AccountingEntry, EntryKind, LineRole

if TYPE_CHECKING:
    from .base import Connector

# A rule key that applies a required dimension to every account (vs an account id or a class).
EVERY_ACCOUNT = "*"


@dataclass(frozen=True)
class MetaAccount:
    remote_id: str
    label: str = ""
    classification: str = ""
    active: bool = True
    postable: bool = True


@dataclass(frozen=True)
class MetaValue:
    remote_id: str
    kind: str = ""
    label: str = ""
    active: bool = True


@dataclass(frozen=True)
class VendorMetadata:
    """The vendor's live metadata as the connector read it. None for a part means "the vendor
    does not tell": that part is not checked."""

    accounts: dict[str, MetaAccount]
    dimensions: dict[str, MetaValue] | None = None      # by remote id
    tax_rates: dict[str, MetaValue] | None = None       # by remote id
    currencies: frozenset[str] | None = None            # enabled currency codes
    closed_through: date | None = None                  # the vendor's lock: every day up to it is closed
    # Dimension keys the vendor requires on a line, by account id, account class or EVERY_ACCOUNT.
    required_dimensions: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "accounts": [vars(a) for a in self.accounts.values()],
            "dimensions": None if self.dimensions is None else [vars(v) for v in self.dimensions.values()],
            "tax_rates": None if self.tax_rates is None else [vars(v) for v in self.tax_rates.values()],
            "currencies": None if self.currencies is None else sorted(self.currencies),
            "closed_through": self.closed_through.isoformat() if self.closed_through else None,
            "required_dimensions": {k: list(v) for k, v in self.required_dimensions.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "VendorMetadata":
        def values(rows):
            return None if rows is None else {r["remote_id"]: MetaValue(**r) for r in rows}
        return cls(accounts={r["remote_id"]: MetaAccount(**r) for r in data["accounts"]},
                   dimensions=values(data.get("dimensions")), tax_rates=values(data.get("tax_rates")),
                   currencies=None if data.get("currencies") is None else frozenset(data["currencies"]),
                   closed_through=date.fromisoformat(data["closed_through"]) if data.get("closed_through") else None,
                   required_dimensions={k: tuple(v) for k, v in (data.get("required_dimensions") or {}).items()})


@dataclass(frozen=True)
class Finding:
    """One reason the vendor would refuse the entry: the field, what is wrong, how to fix it."""
    field: str
    problem: str
    fix: str
    code: str = "preflight"

    def __str__(self) -> str:
        return f"{self.field}: {self.problem} — {self.fix}"


def metadata_from_catalog(connector: "Connector", *, closed_through: date | None = None,
                          postable: Callable[[Any], bool] = lambda item: item.extra.get("postable", True) is not False,
                          extra_accounts: list | None = None, currencies: bool = True,
                          rules: dict[str, list[str]] | None = None, home_currency: str = "") -> VendorMetadata:
    """The common reading: accounts and bank accounts, dimension values, tax rates and currencies
    from the connector's `catalog` (`currencies=False` where the vendor lists no enabled ones; the
    company's own currency, which some list apart, always counts as enabled),
    plus mandatory dimensions: the vendor's own `rules` and those the connection's settings name.
    A kind the vendor cannot list leaves that part unchecked."""
    from .base import CatalogKind
    from .vendor_settings import VendorSettings

    def listed(kind):
        try:
            return connector.catalog(kind)
        except (ValueError, NotImplementedError):
            return None

    accounts: dict[str, MetaAccount] = {}
    for item in [*(listed(CatalogKind.ACCOUNTS) or []), *(extra_accounts or [])]:
        accounts[item.remote_id] = MetaAccount(item.remote_id, f"{item.code} {item.name}".strip(),
                                               item.classification, item.active, postable(item))
    for item in listed(CatalogKind.BANK_ACCOUNTS) or []:
        # A bank line may carry the bank account's id or its ledger account's.
        for key in {item.remote_id, str(item.extra.get("account") or "")} - {""}:
            accounts.setdefault(key, MetaAccount(key, f"{item.code} {item.name}".strip(), "BANK", item.active))
    dims = listed(CatalogKind.DIMENSIONS)
    taxes = listed(CatalogKind.TAX_RATES)
    enabled = listed(CatalogKind.CURRENCIES) if currencies else None
    required = {**(rules or {})}
    for key, kinds in VendorSettings.of(connector.connection).required_dimensions.items():
        required[key] = [*required.get(key, []), *kinds]
    return VendorMetadata(
        accounts=accounts,
        dimensions=None if not dims else {d.remote_id: MetaValue(d.remote_id, d.classification,
                                                                 f"{d.code} {d.name}".strip(), d.active) for d in dims},
        tax_rates=None if not taxes else {t.remote_id: MetaValue(t.remote_id, t.classification, t.name, t.active)
                                          for t in taxes},
        currencies=None if not enabled else frozenset({c.code or c.remote_id for c in enabled if c.active}
                                                      | ({home_currency} if home_currency else set())),
        closed_through=closed_through,
        required_dimensions={k: tuple(v) for k, v in required.items()})


def entry_findings(entry: AccountingEntry, meta: VendorMetadata, *, vendor: str,
                   dimension_key: Callable[[str], str] = lambda kind: kind,
                   base_currencies: frozenset[str] = frozenset()) -> list[Finding]:
    """Everything in `entry` the vendor's metadata says it would refuse (empty: send it)."""
    out: list[Finding] = []
    if meta.closed_through and entry.date <= meta.closed_through:
        out.append(Finding("date", f"{entry.date} falls in {vendor}'s closed period (closed through "
                                   f"{meta.closed_through})",
                           f"reopen the period in {vendor}, or let the connection post to the next open period",
                           code="period_closed"))
    if meta.currencies is not None and entry.currency not in meta.currencies | base_currencies:
        out.append(Finding("currency", f"{entry.currency} is not enabled in {vendor}",
                           f"enable {entry.currency} in {vendor}, or book this connection in its base currency"))
    accounts = [("bank_account", entry.bank_account)] if entry.bank_account else []
    accounts += [(f"lines[{i}].account", line.account) for i, line in enumerate(entry.lines)]
    for where, account in accounts:
        out += account_findings(where, account, meta, vendor)
    for i, line in enumerate(entry.lines):
        if line.tax_rate and meta.tax_rates is not None:
            tax = meta.tax_rates.get(line.tax_rate)
            if tax is None or not tax.active:
                out.append(Finding(f"lines[{i}].tax_rate",
                                   f"tax code {line.tax_rate} is {'not in' if tax is None else 'inactive in'} {vendor}",
                                   "map the tax code to an active tax code of this company (Mappings › Tax)"))
        for dim in line.dimensions:
            if not dim.remote_id or meta.dimensions is None:
                continue
            value = meta.dimensions.get(dim.remote_id)
            if value is None or not value.active:
                out.append(Finding(f"lines[{i}].dimensions.{dim.kind}",
                                   f"{dim.kind} value {dim.label or dim.remote_id} is "
                                   f"{'not in' if value is None else 'inactive in'} {vendor}",
                                   f"map {dim.kind} to an active value (Mappings › Dimensions), or reactivate it "
                                   f"in {vendor}"))
        if entry.kind is not EntryKind.STATEMENT_TRANSACTION and line.role is LineRole.EXPENSE:
            out += _required_findings(i, line, meta, vendor, dimension_key)
    return out


def account_findings(where: str, account: str, meta: VendorMetadata, vendor: str) -> list[Finding]:
    found = meta.accounts.get(account)
    if found is None:
        return [Finding(where, f"account {account} does not exist in {vendor}",
                        "choose an existing account (Mappings › Categories, or the connection's setup)")]
    if not found.active:
        return [Finding(where, f"account {found.label or account} is inactive (blocked) in {vendor}",
                        f"map to an active account, or reactivate {found.label or account} in {vendor}")]
    if not found.postable:
        return [Finding(where, f"account {found.label or account} does not take postings in {vendor} "
                               f"(a heading, total or group account, or direct posting is off)",
                        "map to a posting account")]
    return []


def value_findings(where: str, remote_id: str, values: dict[str, MetaValue] | None, vendor: str, *,
                   what: str, fix: str) -> list[Finding]:
    """A tax code or dimension value: it exists and is active (unchecked where not listed)."""
    if values is None or not remote_id:
        return []
    value = values.get(remote_id)
    if value is None or not value.active:
        return [Finding(where, f"{what} {value.label if value else remote_id} is "
                               f"{'not in' if value is None else 'inactive in'} {vendor}", fix)]
    return []


def _required_findings(i, line, meta: VendorMetadata, vendor: str, dimension_key) -> list[Finding]:
    account = meta.accounts.get(line.account)
    keys = [EVERY_ACCOUNT, line.account] + ([account.classification] if account and account.classification else [])
    wanted = {kind for key in keys for kind in meta.required_dimensions.get(key, ())}
    present = {dimension_key(d.kind) for d in line.dimensions if d.remote_id}
    return [Finding(f"lines[{i}].dimensions.{kind}",
                    f"{vendor} requires a {kind} on account {account.label if account else line.account}",
                    f"map a {kind} for this expense (Mappings › Dimensions), or a default one for the category",
                    code="mandatory_field")
            for kind in sorted(wanted) if dimension_key(kind) not in present]
