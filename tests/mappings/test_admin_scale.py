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
