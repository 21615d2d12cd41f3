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
