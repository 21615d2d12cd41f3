"""Suggestions say why with counts: "used for N similar expenses", from the connection's exported
history (same category booked to that account), next to "name match"."""

import pytest
from django.urls import reverse
from django.utils import timezone

from exports.services.worker import records_work_due
from mappings.models import CategoryMapping, RemoteCatalogItem
from mappings.suggest import USED_PER_EXPENSE, AccountSuggester, name_scores, suggest_accounts

from .conftest import approve, expense

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(org, conn, vendor):
    for remote_id, name, code in (("acc-travel", "Transport", "6100"), ("acc-trips", "Travel", "6150"),
                                  ("acc-meals", "Meals", "6200")):
        RemoteCatalogItem.objects.create(connection=conn, kind="accounts", remote_id=remote_id, name=name, code=code,
                                         classification="EXPENSE", refreshed_at=timezone.now())
    approve(org, *[expense(f"exp_{i}") for i in range(3)], expense("exp_m", category="MEALS"))
    assert records_work_due() == {"exported": 4}
    return conn


def test_the_account_the_category_was_booked_to_says_how_often(history, django_assert_max_num_queries):
    suggester = AccountSuggester(connection=history)
    with django_assert_max_num_queries(4):   # catalog, precedents and the history: a few queries, not per row
        found = {s.remote_id: s for s in suggester.suggest(text="Travel", category_code="TRAVEL")}
    assert found["acc-travel"].why == "used for 3 similar expenses"
    assert found["acc-trips"].why == "name match"
    name_only = name_scores("Travel", suggester.labels)[suggester.labels.index("6100 Transport")]
    assert found["acc-travel"].score == round(name_only + 3 * USED_PER_EXPENSE, 1)   # the history raises it
    meals = {s.remote_id: s for s in suggest_accounts(connection=history, text="Meals", category_code="MEALS")}
    assert meals["acc-meals"].why == "used for 1 similar expense · name match"
    assert "used for" not in meals["acc-travel"].why   # another category's history does not count


def test_only_exported_history_counts(history, org):
    from exports.models import ExportRecord
    ExportRecord.objects.filter(source_id="exp_0").update(status="cancelled")
    found = {s.remote_id: s for s in suggest_accounts(connection=history, text="Travel", category_code="TRAVEL")}
    assert found["acc-travel"].why == "used for 2 similar expenses"


def test_the_mapping_page_shows_the_count(admin_client, history):
    mapping = CategoryMapping.objects.get(connection=history, category_code="TRAVEL")
    page = admin_client.get(reverse("admin:mappings_categorymapping_change", args=[mapping.pk])).content.decode()
    assert "used for 3 similar expenses" in page and "name match" in page
