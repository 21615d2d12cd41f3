"""Hypothesis: for any month of claims, card spend, refunds, fundings, unloads and reimbursements in
2- and 3-decimal currencies, once everything is exported every reconciliation difference is zero
to the minor unit (and Expensico, booked and vendor agree on every row)."""

import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expensico_sync.core.models import Organization
from exports.models import ExportRecord
from exports.reconcile.run import reconciliation_create, reconciliation_execute

from ..conftest import approve, expense
from .conftest import ledger_connection
from .month import card_spend, export_all, fund, reimburse

pytestmark = pytest.mark.django_db
PLACES = {"SAR": 2, "KWD": 3}
_orgs = itertools.count(1)


@st.composite
def money(draw, currency, *, refund=False):
    minor = draw(st.integers(min_value=1, max_value=5_000_000))
    value = Decimal(minor).scaleb(-PLACES[currency])
    return -value if refund and draw(st.booleans()) else value


@st.composite
def documents(draw):
    currency = st.sampled_from(sorted(PLACES))
    day = st.integers(min_value=1, max_value=30)
    kinds = st.sampled_from(["claim", "card", "funding", "unload", "reimbursement"])
    docs = []
    for kind in draw(st.lists(kinds, min_size=1, max_size=10)):
        ccy = draw(currency)
        docs.append((kind, ccy, draw(money(ccy, refund=kind in ("claim", "card"))), draw(day),
                     draw(st.sampled_from(["TRAVEL", "MEALS"]))))
    return docs


class Rollback(Exception):
    pass


def deliver_month(org, docs):
    expenses = []
    for n, (kind, currency, amount, day, category) in enumerate(docs):
        on = f"2026-11-{day:02d}"
        if kind in ("claim", "card"):
            make = card_spend if kind == "card" else (lambda eid, amt, **kw: expense(eid, amount=amt, **kw))
            expenses.append(make(f"exp_{n}", str(amount), currency=currency, date=on, category=category))
        elif kind in ("funding", "unload"):
            fund(org, f"fnd_{n}", str(amount), currency=currency, on=on, out=kind == "unload")
        else:
            reimburse(org, f"rmb_{n}", str(amount), currency=currency, on=on)
    if expenses:
        approve(org, *expenses)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(docs=documents())
def test_an_exported_month_reconciles_to_zero(db, docs):
    try:
        with transaction.atomic():
            org = Organization.objects.create(slug=f"prop-{next(_orgs)}", name="Prop", base_currency="SAR",
                                              mode="live")
            books = ledger_connection(org)
            deliver_month(org, docs)
            export_all()
            assert set(ExportRecord.objects.filter(connection=books).values_list("status", flat=True)) == {"exported"}
            run = reconciliation_create(connection=books, period=date(2026, 11, 1))
            assert reconciliation_execute(reconciliation_id=run.pk) == "finished"
            assert list(run.differences.values_list("kind", "reference", "detail")) == []
            rows = list(run.rows.all())
            assert rows
            for row in rows:
                assert row.expensico == row.booked == row.vendor, (row.account, row.currency)
                assert row.difference == 0
                assert row.expensico == row.expensico.quantize(Decimal(1).scaleb(-PLACES[row.currency]))
            raise Rollback
    except Rollback:
        pass
