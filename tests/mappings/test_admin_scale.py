"""Issue 16: a mapping's change page reads that mapping's history, not the whole set's."""

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.mappings.factories import make_category_mapping

pytestmark = pytest.mark.django_db


def change_page_queries(client, mapping) -> int:
    with CaptureQueriesContext(db) as ctx:
        assert client.get(reverse("admin:mappings_categorymapping_change", args=[mapping.pk])).status_code == 200
    return len(ctx.captured_queries)


def test_change_page_queries_do_not_grow_with_the_sets_history(client, owner, connection):
    client.force_login(owner)
    mapping = make_category_mapping(connection, "OFF")
    change_page_queries(client, mapping)
    few = change_page_queries(client, mapping)
    for n in range(15):
        make_category_mapping(connection, f"C{n}")
    assert change_page_queries(client, mapping) == few


def test_mapping_set_list_queries_do_not_grow_with_the_sets(client, owner, org, connection):
    from tests.mappings.factories import make_connection

    client.force_login(owner)
    make_category_mapping(connection, "OFF")
    url = reverse("admin:mappings_mappingset_changelist")
    client.get(url)  # computes and caches each set's gaps

    def count():
        with CaptureQueriesContext(db) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(3):
        make_category_mapping(make_connection(org, name=f"Books {n}"), "OFF")
    client.get(url)
    assert count() == few  # counts, last change and gap version were 21 queries per set


def _history_of_every_kind(connection, start, n):
    """n mappings of each of three kinds, each edited once (every row then has a previous version),
    a currency policy (whose label names its connection) and a few of the rest."""
    from datetime import date
    from decimal import Decimal

    from mappings.models import CurrencyPolicy, DimensionMapping, ExchangeRate, MerchantRule, TaxMapping

    for i in range(start, start + n):
        mapping = make_category_mapping(connection, f"K{i}")
        mapping.account = f"acc-new-{i}"
        mapping.save()
        tax = TaxMapping.objects.create(connection=connection, tax_code=f"T{i}", tax_rate="tr-15")
        tax.tax_rate = "tr-5"
        tax.save()
        MerchantRule.objects.create(connection=connection, merchant=f"SHOP {chr(65 + i % 26)}{chr(65 + i // 26)}", contact=f"c-{i}")
        ExchangeRate.objects.create(connection=connection, currency="USD", effective_from=date(2026, 1, 1 + i),
                                    rate=Decimal("3.75"))
    DimensionMapping.objects.create(connection=connection, dimension_key="project", value=f"P{start}", remote_id="p-1")
    policy, _ = CurrencyPolicy.objects.get_or_create(connection=connection, defaults={"rate_source": "table"})
    policy.rate_source = "expensico" if policy.rate_source == "table" else "table"
    policy.save()


def _gaps(org, connection, start, n):
    """n expenses in n unmapped categories: n category gaps, each offered catalog suggestions."""
    from django.utils import timezone

    from mappings.models import RemoteCatalogItem
    from tests.source.factories import expense_payload, make_report, report_payload

    for i in range(start, start + n):
        RemoteCatalogItem.objects.create(connection=connection, kind="accounts", remote_id=f"a-{i}",
                                         name=f"Gap account {i}", code=f"7{i:03d}", refreshed_at=timezone.now())
    make_report(org, report_payload(500 + start, expenses=[
        expense_payload(5000 + i, category={"id": f"cat_g{i}", "code": f"GAP{i}", "name": f"Gap account {i}"})
        for i in range(start, start + n)]))


def test_mapping_set_page_queries_do_not_grow_with_its_history(client, owner, org, connection,
                                                               django_assert_max_num_queries):
    """The set's page showed 100 history rows at one query each for the previous version (and one
    for the connection in a currency policy's label), and asked the catalog three times per gap:
    ~97 queries at a year's data."""
    client.force_login(owner)
    _history_of_every_kind(connection, 0, 2)
    _gaps(org, connection, 0, 1)
    url = reverse("admin:mappings_mappingset_change", args=[connection.pk])
    assert client.get(url).status_code == 200  # computes and caches the set's gaps
    with CaptureQueriesContext(db) as ctx:
        client.get(url)
    few = len(ctx.captured_queries)
    _history_of_every_kind(connection, 2, 12)  # 12 × 5 more history rows, all on the page
    _gaps(org, connection, 1, 8)
    client.get(url)  # the set changed: its gaps are computed again (cached once per version)
    with django_assert_max_num_queries(few):
        response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "acc-new-13" in page and "T13 → tr-5" in page  # the newest rows are on it, with their diffs
    assert "GAP8" in page and "Gap account 8" in page  # every gap, with its suggested account
