"""Counts next to a noun go through ngettext, so Arabic gets its six plural forms (zero, one, two,
3–10, 11–99, 100+) instead of one word for every number: the connection activation preview, the
mapping-set list, the catalog refresh and the dashboard's organisation modes."""

import pytest
from django.utils import translation

from expensico_sync.core.dashboard import MODE_COUNTS
from exports.activation import KIND_COUNTS as ACTIVATION
from mappings.admin.catalog import CATALOG_COUNTS
from mappings.admin.sets import KIND_COUNTS as MAPPING_SET
from mappings.models import MAPPING_MODELS

SAMPLES = (0, 1, 2, 3, 11, 100)


def forms(lazy) -> list[str]:
    with translation.override("ar"):
        return [str(lazy % {"count": n}) for n in SAMPLES]


def test_activation_counts_use_the_arabic_plural_forms():
    assert forms(ACTIVATION["expenses"]) == ["0 مصروف", "مصروف واحد", "مصروفان", "3 مصروفات", "11 مصروفًا",
                                             "100 مصروف"]
    with translation.override("en"):
        assert [ACTIVATION["expenses"] % {"count": n} for n in (1, 2)] == ["1 expense", "2 expenses"]


@pytest.mark.parametrize("table", [ACTIVATION, MAPPING_SET, CATALOG_COUNTS, MODE_COUNTS],
                         ids=["activation", "mapping-set", "catalog", "dashboard-modes"])
def test_every_count_is_translated_with_the_number_where_arabic_needs_it(table):
    for key, lazy in table.items():
        words = forms(lazy)
        english = [str(lazy % {"count": n}) for n in SAMPLES]
        assert words != english, f"{key}: not translated"
        assert len(set(words[1:4])) == 3, f"{key}: one, two and a few read alike: {words}"
        for n, text in zip(SAMPLES, words, strict=True):
            assert n in (1, 2) or str(n) in text, f"{key}: {n} is missing from {text!r}"


def test_the_mapping_set_list_counts_every_kind():
    assert set(MAPPING_SET) == {m.KIND for m in MAPPING_MODELS}
