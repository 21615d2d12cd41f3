"""Coding rules, pure: which rule (the first active one, by position) decides an expense.

No database: the snapshot carries the rules as `CodingRuleData`, so `resolve`, the "test this
rule" view and gap detection all match the same way.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from django.utils.translation import gettext_noop

from expensico_sync.core.texts import register, said

from .merchants import normalise_merchant

TEXTS = register({"coding_rule": gettext_noop("rule #%(id)s")})


@dataclass(frozen=True)
class CodingRuleData:
    id: int
    name: str
    position: int = 0
    merchant_match: str = "exact"      # exact | contains | regex
    merchant: str = ""
    employees: frozenset[str] = frozenset()
    cards: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    expense_types: frozenset[str] = frozenset()
    funding_source: str = ""
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    currency: str = ""
    custom_fields: tuple[tuple[str, str], ...] = ()
    dimensions: tuple[tuple[str, str], ...] = ()
    # actions
    account: str = ""
    account_name: str = ""
    tax_code: str = ""
    set_dimensions: tuple[tuple[str, str], ...] = ()
    contact: str = ""
    hold: bool = False
    hold_reason: str = ""
    skip: bool = False

    @property
    def label(self) -> str:
        return said("coding_rule", id=self.id)

    @classmethod
    def from_model(cls, rule) -> "CodingRuleData":
        return cls(
            id=rule.pk, name=rule.name, position=rule.position, merchant_match=rule.merchant_match,
            merchant=rule.merchant, employees=frozenset(rule.employees), cards=frozenset(rule.cards),
            categories=frozenset(rule.categories), expense_types=frozenset(rule.expense_types),
            funding_source=rule.funding_source, amount_min=rule.amount_min, amount_max=rule.amount_max,
            currency=rule.currency, custom_fields=tuple(sorted(rule.custom_fields.items())),
            dimensions=tuple(sorted(rule.dimensions.items())), account=rule.account, account_name=rule.account_name,
            tax_code=rule.tax_code, set_dimensions=tuple(sorted(rule.set_dimensions.items())), contact=rule.contact,
            hold=rule.hold, hold_reason=rule.hold_reason, skip=rule.skip)


@lru_cache(maxsize=512)
def _pattern(text: str) -> re.Pattern:
    return re.compile(text, re.IGNORECASE)


def _merchant_matches(rule: CodingRuleData, merchant: str) -> bool:
    if not rule.merchant:
        return True
    if rule.merchant_match == "regex":
        return _pattern(rule.merchant).search(merchant or "") is not None
    name, wanted = normalise_merchant(merchant), normalise_merchant(rule.merchant)
    return wanted in name if rule.merchant_match == "contains" else name == wanted


def rule_matches(rule: CodingRuleData, doc) -> bool:
    """Every condition the rule sets holds for the expense document."""
    amount = abs(doc.amount)
    doc_custom, doc_dims = dict(doc.custom_fields), dict(doc.dimensions)
    return (_merchant_matches(rule, doc.merchant)
            and (not rule.employees or doc.employee_id in rule.employees)
            and (not rule.cards or doc.card_last4 in rule.cards)
            and (not rule.categories or doc.category_code in rule.categories)
            and (not rule.expense_types or doc.type in rule.expense_types)
            and (not rule.funding_source or doc.funding_source == rule.funding_source)
            and (not rule.currency or doc.currency == rule.currency)
            and (rule.amount_min is None or amount >= rule.amount_min)
            and (rule.amount_max is None or amount <= rule.amount_max)
            and all(doc_custom.get(k) == v for k, v in rule.custom_fields)
            and all(doc_dims.get(k) == v for k, v in rule.dimensions))


def first_rule(rules, doc) -> CodingRuleData | None:
    """The deciding rule: `rules` are in order (position, id), the first match wins."""
    return next((r for r in rules if rule_matches(r, doc)), None)
