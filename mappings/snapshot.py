"""A frozen picture of one connection's mapping set, read by the pure resolver.

Built by `selectors.mapping_snapshot(connection)`; tests build it directly. Lookups that the
resolver and gap detection share live here so both always agree on what "mapped" means.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .merchants import normalise_merchant
from .rules import CodingRuleData, first_rule


@dataclass(frozen=True)
class CategoryRule:
    account: str
    account_name: str = ""


@dataclass(frozen=True)
class TaxRule:
    tax_rate: str = ""              # remote tax rate id
    treatment: str = "as_document"  # as_document | inclusive | exclusive
    separate_line: bool = False
    tax_account: str = ""


@dataclass(frozen=True)
class CurrencyRule:
    rate_source: str = "expensico"  # expensico | table | target
    fx_account: str = ""


@dataclass(frozen=True)
class DimensionRule:
    remote_kind: str
    remote_id: str                  # blank: deliberately not sent
    label: str = ""


@dataclass(frozen=True)
class MerchantRuleData:
    contact: str = ""
    category_code: str = ""


@dataclass(frozen=True)
class HoldRuleData:
    name: str
    amount_over: Decimal | None = None
    currency: str = ""
    missing_receipt: bool = False
    categories: frozenset[str] = frozenset()
    employees: frozenset[str] = frozenset()
    funding_source: str = ""


@dataclass(frozen=True)
class MappingSnapshot:
    version: str = "empty"
    base_currency: str = ""
    # (category code, funding source or "", expense type or "") -> rule
    categories: dict[tuple[str, str, str], CategoryRule] = field(default_factory=dict)
    taxes: dict[str, TaxRule] = field(default_factory=dict)
    currency: CurrencyRule = CurrencyRule()
    # currency -> ((effective_from, rate), ...) newest first
    rates: dict[str, tuple[tuple[date, Decimal], ...]] = field(default_factory=dict)
    dimensions: dict[tuple[str, str], DimensionRule] = field(default_factory=dict)
    merchants: dict[str, MerchantRuleData] = field(default_factory=dict)
    holds: tuple[HoldRuleData, ...] = ()
    rules: tuple[CodingRuleData, ...] = ()          # active coding rules, in order
    # The organisation's promoted categoriser for this connection: doc -> Prediction | None.
    predictor: Callable | None = field(default=None, compare=False, repr=False)
    model_version: int = 0
    auto_apply: float | None = None                   # probability at which a prediction codes alone
    # A prediction at least this sure that disagrees with the category mapping is proposed instead.
    disagree_at: float | None = None

    def __hash__(self):
        return hash(self.version)

    def category_rule(self, code: str, funding_source: str, expense_type: str) -> CategoryRule | None:
        """The most specific mapping wins: both overrides, then funding source, then type, then plain."""
        for key in ((code, funding_source, expense_type), (code, funding_source, ""), (code, "", expense_type),
                    (code, "", "")):
            rule = self.categories.get(key)
            if rule is not None:
                return rule
        return None

    @property
    def mapped_dimension_keys(self) -> frozenset[str]:
        """A dimension key takes part once any value of it is mapped; unmapped keys are not sent."""
        return frozenset(k for k, _ in self.dimensions)

    def merchant_rule(self, merchant: str) -> MerchantRuleData | None:
        name = normalise_merchant(merchant)
        return self.merchants.get(name) if name else None

    def coding_rule(self, doc) -> CodingRuleData | None:
        return first_rule(self.rules, doc)

    def table_rate(self, currency: str, on: date) -> Decimal | None:
        for effective_from, rate in self.rates.get(currency, ()):
            if effective_from <= on:
                return rate
        return None
