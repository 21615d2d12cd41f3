"""Spreadsheet formula injection: every CSV/XLSX cell we write goes through `cell_safe`.

A text cell that starts with = + - @ TAB or CR is read by Excel, LibreOffice and Sheets as a
formula (`=HYPERLINK(…)`, `@SUM(…)`, `-2+3+cmd|…`). Such text is written with a leading single
quote (OWASP's advice), which the spreadsheet shows as text. Numbers stay numbers: an amount of
-12.50, whether a Decimal or the string "-12.50", is written as it is (digits and separators
alone can never be a formula). Importing reverses it: `cell_unquoted`."""

import re
from typing import Any

from import_export import resources

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number, possibly localised: sign, digits, group and decimal separators, an exponent.
_NUMBER = re.compile(r"[+-]?(?=[\d.,]*\d)[\d.,\u00a0\u202f\u066b\u066c]*(?:[eE][+-]?\d+)?")


def cell_safe(value: Any) -> Any:
    """The value to write in a cell: text that a spreadsheet would run as a formula gets a
    leading single quote; everything else (numbers, dates, None, ordinary text) is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def row_safe(row) -> list:
    return [cell_safe(value) for value in row]


def cell_unquoted(value: Any) -> Any:
    """The text a cell held before `cell_safe` quoted it (for files we exported and read back)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


class SafeModelResource(resources.ModelResource):
    """A django-import-export resource whose exported cells are neutralised (admin list exports,
    scheduled reports, the evidence pack) and whose imports accept its own quoted cells back."""

    def export_field(self, field, instance, **kwargs):
        return cell_safe(super().export_field(field, instance, **kwargs))

    def before_import_row(self, row, **kwargs):
        for key, value in list(row.items()):
            row[key] = cell_unquoted(value)
        super().before_import_row(row, **kwargs)
