"""Mapping rows for tests, and the isolation factories of every mappings admin and API model."""

import itertools
from datetime import date
from decimal import Decimal

from django.utils import timezone

from connectors.models import Connection
from mappings.models import (
    CategoriserModel,
    CategoryMapping,
    CodingCorrection,
    CodingRule,
    CurrencyPolicy,
    DimensionMapping,
    ExchangeRate,
    HoldRule,
    MappingPreference,
    MappingSet,
    MerchantRule,
    RemoteCatalogItem,
    TaxMapping,
)
from tests.registry import isolation_factory

_seq = itertools.count(1)


def make_connection(org, **kw) -> Connection:
    n = next(_seq)
    defaults = {"system": "wafeq", "name": f"Books {n}", "base_url": "http://127.0.0.1:9/",
                "employee_claims_account": "acc-claims", "employees_balance_account": "acc-balance",
                "funding_bank_account": "acc-bank"}
    return Connection.objects.create(organization=org, **{**defaults, **kw})


def make_category_mapping(connection, code=None, **kw) -> CategoryMapping:
    code = code or f"CAT{next(_seq)}"
    return CategoryMapping.objects.create(connection=connection, category_code=code,
                                          **{"category_name": code.title(), "account": f"acc-{code}", **kw})


@isolation_factory(MappingSet)
def _set(org):
    return MappingSet.objects.get(pk=make_connection(org).pk)


@isolation_factory(CategoryMapping)
def _category(org):
    return make_category_mapping(make_connection(org))


@isolation_factory(TaxMapping)
def _tax(org):
    return TaxMapping.objects.create(connection=make_connection(org), tax_code="VAT15", tax_rate="tr-15")


@isolation_factory(CurrencyPolicy)
def _policy(org):
    return CurrencyPolicy.objects.create(connection=make_connection(org), rate_source="table")


@isolation_factory(ExchangeRate)
def _rate(org):
    return ExchangeRate.objects.create(connection=make_connection(org), currency="USD",
                                       effective_from=date(2026, 1, 1), rate=Decimal("3.75"))


@isolation_factory(DimensionMapping)
def _dimension(org):
    return DimensionMapping.objects.create(connection=make_connection(org), dimension_key="cost_center",
                                           value="CC-1", remote_kind="cost_center", remote_id="cc-1")


@isolation_factory(MerchantRule)
def _merchant(org):
    return MerchantRule.objects.create(connection=make_connection(org), merchant="CAREEM*RIDE 1", contact="c-1")


@isolation_factory(HoldRule)
def _hold(org):
    return HoldRule.objects.create(connection=make_connection(org), name="Big", amount_over=Decimal("5000"))


@isolation_factory(RemoteCatalogItem)
def _catalog(org):
    return RemoteCatalogItem.objects.create(connection=make_connection(org), kind="accounts", remote_id="a-1",
                                            name="Travel", code="6100", refreshed_at=timezone.now())


@isolation_factory(MappingPreference)
def _preference(org):
    return MappingPreference.objects.get_or_create(organization=org)[0]


@isolation_factory(CodingRule)
def _coding_rule(org):
    return CodingRule.objects.create(connection=make_connection(org), name="Taxis", merchant="careem", account="6120")


@isolation_factory(CategoriserModel)
def _categoriser(org):
    return CategoriserModel.objects.create(connection=make_connection(org), version=1, trained_at=timezone.now(),
                                           training_size=10, heldout_accuracy=0.9, sklearn_version="0", blob=b"")


@isolation_factory(CodingCorrection)
def _correction(org):
    return CodingCorrection.objects.create(connection=make_connection(org), source_id="exp_1", account="6120",
                                           accepted=True)


def _allowance_rate(org):
    from mappings.models import AllowanceRate

    return AllowanceRate.objects.create(organization=org, kind="mileage", currency="SAR", rate=Decimal("0.75"),
                                        effective_from=date(2026, 1, 1))


isolation_factory(__import__("mappings.models", fromlist=["AllowanceRate"]).AllowanceRate)(_allowance_rate)
