"""History across a mapping set: diffs, who and when, revert of one mapping or the whole set."""

from datetime import UTC, datetime

import pytest
import time_machine

from mappings.history import mapping_revert, mapping_set_history, mapping_set_revert
from mappings.models import CategoryMapping, DimensionMapping, TaxMapping
from mappings.selectors import mapping_snapshot
from tests.mappings.factories import make_category_mapping, make_connection


def at(hour):
    return datetime(2026, 11, 2, hour, 0, tzinfo=UTC)


def build_history(connection):
    """09:00 create two; 10:00 change one, add a tax; 11:00 delete one, add a dimension."""
    with time_machine.travel(at(9), tick=False):
        travel = make_category_mapping(connection, "TRAVEL", account="6100", account_name="Travel")
        meals = make_category_mapping(connection, "MEALS", account="6200")
    with time_machine.travel(at(10), tick=False):
        travel.account, travel.account_name = "6110", "Travel abroad"
        travel.save()
        TaxMapping.objects.create(connection=connection, tax_code="VAT15", tax_rate="tr-15")
    with time_machine.travel(at(11), tick=False):
        meals_pk = meals.pk
        meals.delete()
        meals.pk = meals_pk  # Django clears it; the tests need to find the history
        DimensionMapping.objects.create(connection=connection, dimension_key="project", value="P1", remote_id="p-1")
    return travel, meals


def state(connection):
    return {
        "category": sorted(CategoryMapping.objects.filter(connection=connection).values_list("category_code", "account")),
        "tax": sorted(TaxMapping.objects.filter(connection=connection).values_list("tax_code", flat=True)),
        "dimension": sorted(DimensionMapping.objects.filter(connection=connection).values_list("value", flat=True)),
    }


def test_history_lists_every_change_with_its_diff(connection, owner):
    build_history(connection)
    rows = mapping_set_history(connection)
    # Newest first; the two 11:00 changes share a timestamp, so compare them as a set.
    assert {(r.kind, r.action) for r in rows[:2]} == {("category", "deleted"), ("dimension", "created")}
    assert {(r.kind, r.action) for r in rows[2:4]} == {("category", "changed"), ("tax", "created")}
    changed = next(r for r in rows if r.action == "changed")
    assert {(c.field, c.old, c.new) for c in changed.changes} == {("account", "6100", "6110"),
                                                                  ("account_name", "Travel", "Travel abroad")}
    assert changed.at == at(10)
    assert len(rows) == 6


def test_history_is_per_connection(connection, org):
    build_history(connection)
    other = make_connection(org)
    make_category_mapping(other, "X")
    assert all(r.label != "X" for r in mapping_set_history(connection))
    assert [r.kind for r in mapping_set_history(other)] == ["category"]


def test_revert_whole_set_to_a_point_in_time(connection, owner):
    travel, meals = build_history(connection)
    before = mapping_snapshot(connection).version
    with time_machine.travel(at(12), tick=False):
        counts = mapping_set_revert(connection=connection, at=at(9), user=owner)
    assert state(connection) == {"category": [("MEALS", "6200"), ("TRAVEL", "6100")], "tax": [], "dimension": []}
    assert counts == {"restored": 2, "deleted": 2, "unchanged": 0}
    # The revert is itself history, authored, and can be undone by reverting to 11:00.
    latest = mapping_set_history(connection)[0]
    assert latest.user == str(owner) and latest.reason.startswith("Reverted to")
    assert mapping_snapshot(connection).version != before
    with time_machine.travel(at(13), tick=False):
        mapping_set_revert(connection=connection, at=at(11), user=owner)
    assert state(connection) == {"category": [("TRAVEL", "6110")], "tax": ["VAT15"], "dimension": ["P1"]}
    assert not CategoryMapping.objects.filter(pk=meals.pk).exists()


def test_revert_one_mapping_to_a_version_even_after_deletion(connection, owner):
    travel, meals = build_history(connection)
    first = CategoryMapping.history.filter(id=travel.pk).order_by("history_date").first()
    mapping_revert(kind="category", connection=connection, history_id=first.history_id, user=owner)
    assert CategoryMapping.objects.get(pk=travel.pk).account == "6100"
    created = CategoryMapping.history.filter(id=meals.pk, history_type="+").get()
    mapping_revert(kind="category", connection=connection, history_id=created.history_id, user=owner)
    assert CategoryMapping.objects.get(pk=meals.pk).account == "6200"
    assert state(connection)["dimension"] == ["P1"]  # nothing else moved


def test_revert_refuses_a_version_of_another_connection(connection, org):
    other = make_connection(org)
    foreign = make_category_mapping(other, "X")
    record = CategoryMapping.history.get(id=foreign.pk)
    with pytest.raises(LookupError):
        mapping_revert(kind="category", connection=connection, history_id=record.history_id)


def test_snapshot_version_is_the_last_change_and_content(connection):
    with time_machine.travel(at(9), tick=False):
        make_category_mapping(connection, "TRAVEL")
    version = mapping_snapshot(connection).version
    assert version.startswith("2026-11-02T09:00:00+00:00~")
    assert mapping_snapshot(connection).version == version  # stable while nothing changes
