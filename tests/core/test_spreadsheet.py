"""Formula injection: text a spreadsheet would run is quoted; numbers and plain text are not."""

from datetime import date
from decimal import Decimal

import pytest

from expensico_sync.core.spreadsheet import cell_safe, cell_unquoted


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
                                  "\t=1", "\r=1", "-", "- 12", "+971 50 123 4567 =1", "=1"])
def test_formula_like_text_is_quoted_and_read_back(text):
    assert cell_safe(text) == "'" + text
    assert cell_unquoted(cell_safe(text)) == text


@pytest.mark.parametrize("value", ["-12.50", "+5", "-1,234.50", "-1.234,50", "-1e5", "-0.001", Decimal("-12.50"),
                                   -3, -1.5, None, "", "Careem ride", "a=b", date(2026, 11, 1)])
def test_numbers_plain_text_and_other_values_are_unchanged(value):
    assert cell_safe(value) == value
    assert cell_unquoted(value) == value


def test_quoting_twice_changes_nothing():
    assert cell_safe(cell_safe("=1+1")) == "'=1+1"
