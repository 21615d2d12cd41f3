"""Pre-flight: would the vendor take this entry? Checked against the vendor's own metadata
(accounts, dimension values, tax codes, currencies, its locked period, its mandatory fields)
before anything is sent, so a document the vendor would refuse costs no request.

`VendorMetadata` is what a connector's `preflight_metadata()` capability returns; it is plain
data (kept as JSON by the engine's cache, so a check costs no vendor call per document).
`entry_findings` is pure: an entry and the metadata in, the problems out, each naming the field
and the fix, in words kept with their code (expensico_sync/core/texts.py) so a reader sees them in
their own language.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_noop

from expensico_sync.core.texts import Said, register, said

from .entry import AccountingEntry, EntryKind, LineRole

if TYPE_CHECKING:
    from .base import Connector

# A rule key that applies a required dimension to every account (vs an account id or a class).
EVERY_ACCOUNT = "*"

# A finding's problem and fix. `vendor` is the vendor's name; values are the vendor's ids and labels.
TEXTS = register({
    "preflight_finding": gettext_noop("%(field)s: %(problem)s — %(fix)s"),
    # The entry's own fields by name (a line's field stays a path: lines[0].account).
    "preflight_field_date": gettext_noop("date"),
    "preflight_field_currency": gettext_noop("currency"),
    "preflight_field_bank_account": gettext_noop("bank_account"),
    "preflight_period_closed": gettext_noop("%(date)s falls in %(vendor)s's closed period (closed through %(through)s)"),
    "preflight_period_fix": gettext_noop("reopen the period in %(vendor)s, or let the connection post to the next "
                                         "open period"),
    "preflight_currency": gettext_noop("%(currency)s is not enabled in %(vendor)s"),
    "preflight_currency_fix": gettext_noop("enable %(currency)s in %(vendor)s, or book this connection in its base "
                                           "currency"),
    "preflight_tax_missing": gettext_noop("tax code %(value)s is not in %(vendor)s"),
    "preflight_tax_inactive": gettext_noop("tax code %(value)s is inactive in %(vendor)s"),
    "preflight_tax_fix": gettext_noop("map the tax code to an active tax code of this company (Mappings › Tax)"),
    "preflight_value_missing": gettext_noop("%(kind)s value %(value)s is not in %(vendor)s"),
    "preflight_value_inactive": gettext_noop("%(kind)s value %(value)s is inactive in %(vendor)s"),
    "preflight_value_fix": gettext_noop("map %(kind)s to an active value (Mappings › Dimensions), or reactivate it "
                                        "in %(vendor)s"),
    "preflight_account_missing": gettext_noop("account %(account)s does not exist in %(vendor)s"),
    "preflight_account_missing_fix": gettext_noop("choose an existing account (Mappings › Categories, or the "
                                                  "connection's setup)"),
    "preflight_account_inactive": gettext_noop("account %(account)s is inactive (blocked) in %(vendor)s"),
    "preflight_account_inactive_fix": gettext_noop("map to an active account, or reactivate %(account)s in "
                                                   "%(vendor)s"),
    "preflight_account_heading": gettext_noop("account %(account)s does not take postings in %(vendor)s (a heading, "
                                              "total or group account, or direct posting is off)"),
    "preflight_account_heading_fix": gettext_noop("map to a posting account"),
    "preflight_required": gettext_noop("%(vendor)s requires a %(kind)s on account %(account)s"),
    "preflight_required_fix": gettext_noop("map a %(kind)s for this expense (Mappings › Dimensions), or a default "
                                           "one for the category"),
})


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
        return str(self.said())

    def said(self) -> Said:
        """The finding in words kept with their code (the English is str(self))."""
        where = said(f"preflight_field_{self.field}") if self.field in ("date", "currency", "bank_account") \
            else self.field
        return said("preflight_finding", field=where, problem=self.problem, fix=self.fix)


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
        out.append(Finding("date", said("preflight_period_closed", date=entry.date, vendor=vendor,
                                        through=meta.closed_through),
                           said("preflight_period_fix", vendor=vendor), code="period_closed"))
    if meta.currencies is not None and entry.currency not in meta.currencies | base_currencies:
        out.append(Finding("currency", said("preflight_currency", currency=entry.currency, vendor=vendor),
                           said("preflight_currency_fix", currency=entry.currency, vendor=vendor)))
    accounts = [("bank_account", entry.bank_account)] if entry.bank_account else []
    accounts += [(f"lines[{i}].account", line.account) for i, line in enumerate(entry.lines)]
    for where, account in accounts:
        out += account_findings(where, account, meta, vendor)
    for i, line in enumerate(entry.lines):
        if line.tax_rate and meta.tax_rates is not None:
            tax = meta.tax_rates.get(line.tax_rate)
            if tax is None or not tax.active:
                out.append(Finding(f"lines[{i}].tax_rate",
                                   said("preflight_tax_missing" if tax is None else "preflight_tax_inactive",
                                        value=line.tax_rate, vendor=vendor),
                                   said("preflight_tax_fix")))
        for dim in line.dimensions:
            if not dim.remote_id or meta.dimensions is None:
                continue
            value = meta.dimensions.get(dim.remote_id)
            if value is None or not value.active:
                out.append(Finding(f"lines[{i}].dimensions.{dim.kind}",
                                   said("preflight_value_missing" if value is None else "preflight_value_inactive",
                                        kind=dim.kind, value=dim.label or dim.remote_id, vendor=vendor),
                                   said("preflight_value_fix", kind=dim.kind, vendor=vendor)))
        if entry.kind is not EntryKind.STATEMENT_TRANSACTION and line.role is LineRole.EXPENSE:
            out += _required_findings(i, line, meta, vendor, dimension_key)
    return out


def account_findings(where: str, account: str, meta: VendorMetadata, vendor: str) -> list[Finding]:
    found = meta.accounts.get(account)
    if found is None:
        return [Finding(where, said("preflight_account_missing", account=account, vendor=vendor),
                        said("preflight_account_missing_fix"))]
    name = found.label or account
    if not found.active:
        return [Finding(where, said("preflight_account_inactive", account=name, vendor=vendor),
                        said("preflight_account_inactive_fix", account=name, vendor=vendor))]
    if not found.postable:
        return [Finding(where, said("preflight_account_heading", account=name, vendor=vendor),
                        said("preflight_account_heading_fix"))]
    return []


def value_findings(where: str, remote_id: str, values: dict[str, MetaValue] | None, vendor: str, *,
                   missing: str, inactive: str, fix: str, **words: str) -> list[Finding]:
    """A tax code or dimension value: it exists and is active (unchecked where not listed).
    `missing`, `inactive` and `fix` are registered codes; `words` their parameters beside the
    value's name (`value`) and the vendor's (`vendor`)."""
    if values is None or not remote_id:
        return []
    value = values.get(remote_id)
    if value is None or not value.active:
        name = value.label if value else remote_id
        return [Finding(where, said(missing if value is None else inactive, value=name, vendor=vendor, **words),
                        said(fix, vendor=vendor, **words))]
    return []


def _required_findings(i, line, meta: VendorMetadata, vendor: str, dimension_key) -> list[Finding]:
    account = meta.accounts.get(line.account)
    keys = [EVERY_ACCOUNT, line.account] + ([account.classification] if account and account.classification else [])
    wanted = {kind for key in keys for kind in meta.required_dimensions.get(key, ())}
    present = {dimension_key(d.kind) for d in line.dimensions if d.remote_id}
    return [Finding(f"lines[{i}].dimensions.{kind}",
                    said("preflight_required", vendor=vendor, kind=kind,
                         account=account.label if account else line.account),
                    said("preflight_required_fix", kind=kind), code="mandatory_field")
            for kind in sorted(wanted) if dimension_key(kind) not in present]
