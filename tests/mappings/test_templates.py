"""Template round-trips (CSV, XLSX, JSON), dry-run previews and errors naming row and column."""

import json
from datetime import date
from decimal import Decimal

import pytest

from mappings.models import (
    MAPPING_MODELS,
    CategoryMapping,
    CurrencyPolicy,
    ExchangeRate,
    HoldRule,
    MerchantRule,
)
from mappings.resources import COLUMNS
from mappings.services import mapping_set_clone
from mappings.set_templates import mapping_set_export, mapping_set_import
from tests.mappings.factories import make_category_mapping, make_connection


def fill(connection):
    make_category_mapping(connection, "TRAVEL", account="6100", account_name="سفر Travel")
    make_category_mapping(connection, "TRAVEL", funding_source="card", expense_type="mileage", account="6103")
    from mappings.models import DimensionMapping, TaxMapping
    TaxMapping.objects.create(connection=connection, tax_code="VAT15", tax_rate="tr-15", treatment="exclusive",
                              separate_line=True, tax_account="1500")
    CurrencyPolicy.objects.create(connection=connection, rate_source="table", fx_account="7900")
    ExchangeRate.objects.create(connection=connection, currency="KWD", effective_from=date(2026, 1, 1),
                                rate=Decimal("12.21540000"))
    DimensionMapping.objects.create(connection=connection, dimension_key="cost_center", value="CC-1",
                                    remote_kind="worktag:Cost_Center_Reference_ID", remote_id="CC_1")
    DimensionMapping.objects.create(connection=connection, dimension_key="project", value="P-0")
    MerchantRule.objects.create(connection=connection, merchant="CAREEM*RIDE 22", contact="c-careem",
                                category_code="TRAVEL")
    HoldRule.objects.create(connection=connection, name="Big meals", amount_over=Decimal("1000.500"), currency="KWD",
                            categories=["MEALS", "ENT"], employees=["emp_1"], missing_receipt=True)
    HoldRule.objects.create(connection=connection, name="No receipt", missing_receipt=True)  # empty lists


def content_of(connection):
    out = {}
    for model in MAPPING_MODELS:
        out[model.KIND] = sorted(tuple(str(getattr(o, c)) for c in COLUMNS[model.KIND])
                                 for o in model.objects.filter(connection=connection))
    return out


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_round_trip_export_then_import_gives_an_identical_set(org, connection, fmt):
    fill(connection)
    blob = mapping_set_export(connection=connection, fmt=fmt)
    target = make_connection(org)
    preview = mapping_set_import(connection=target, content=blob, fmt=fmt, dry_run=True)
    assert not preview.has_errors, [r.errors for r in preview.rows if r.errors]
    assert preview.totals()["new"] == 10
    assert content_of(target) == {m.KIND: [] for m in MAPPING_MODELS}  # a dry run writes nothing
    applied = mapping_set_import(connection=target, content=blob, fmt=fmt, dry_run=False)
    assert not applied.dry_run and applied.totals()["new"] == 10
    assert content_of(target) == content_of(connection)
    # Importing the same file again changes nothing.
    again = mapping_set_import(connection=target, content=blob, fmt=fmt, dry_run=True)
    assert again.totals() == {"new": 0, "update": 0, "skip": 10, "error": 0}


def test_import_updates_by_natural_key(connection):
    make_category_mapping(connection, "TRAVEL", account="6100")
    body = json.dumps({"category": [{"category_code": "TRAVEL", "funding_source": "", "expense_type": "",
                                     "account": "6199", "account_name": "Travel (new)"},
                                    {"category_code": "MEALS", "account": "6200"}]}).encode()
    report = mapping_set_import(connection=connection, content=body, fmt="json", dry_run=False)
    assert [(r.where, r.action, r.key) for r in report.rows] == [("category[0]", "update", "TRAVEL /  / "),
                                                                ("category[1]", "new", "MEALS /  / ")]
    assert CategoryMapping.objects.get(connection=connection, category_code="TRAVEL").account == "6199"


def test_dry_run_errors_name_the_row_and_the_column(connection):
    csv = (b"kind,category_code,account,funding_source,tax_code,rate,currency,effective_from,name\n"
           b"category,TRAVEL,6100,,,,,,\n"
           b"category,MEALS,,,,,,,\n"                      # row 3: account missing
           b"category,FUEL,6300,bicycle,,,,,\n"            # row 4: not a funding source
           b"rate,,,,,abc,USD,2026-01-01,\n")     # row 5: not a number
    report = mapping_set_import(connection=connection, content=csv, fmt="csv", dry_run=False)
    assert report.has_errors and report.dry_run  # any error: nothing is applied
    errors = {r.where: r.errors for r in report.rows if r.errors}
    assert set(errors) == {"row 3", "row 4", "row 5"}
    assert any("column account" in e for e in errors["row 3"])
    assert any("column funding_source" in e and "bicycle" in e for e in errors["row 4"])
    assert any("column rate" in e for e in errors["row 5"])
    assert all(e.startswith(where) for where, errs in errors.items() for e in errs)
    assert not CategoryMapping.objects.filter(connection=connection).exists()


def test_unreadable_file_is_one_error_not_a_crash(connection):
    report = mapping_set_import(connection=connection, content=b"\x00\x01 not xlsx", fmt="xlsx")
    assert report.has_errors and report.rows[0].where == "file"
    report = mapping_set_import(connection=connection, content=b'{"bogus": [{}]}', fmt="json")
    assert "unknown kind 'bogus'" in report.rows[0].errors[0]


def test_clone_from_another_connection(org, connection, owner):
    fill(connection)
    target = make_connection(org)
    make_category_mapping(target, "OLD")
    counts = mapping_set_clone(source=connection, target=target, replace=True, user=owner)
    assert counts == {"created": 10, "updated": 0, "deleted": 1}
    assert content_of(target) == content_of(connection)
    assert CategoryMapping.history.filter(connection_id=target.pk).latest("history_date").history_user == owner


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formula_like_text_is_quoted_in_the_file_and_comes_back_unchanged(org, connection, fmt):
    MerchantRule.objects.create(connection=connection, merchant="CAREEM", contact="@c-1",
                                contact_name="=HYPERLINK(\"http://x\",\"y\")", category_code="TRAVEL")
    make_category_mapping(connection, "MEALS", account="6200", account_name="-Meals+cmd")
    blob = mapping_set_export(connection=connection, fmt=fmt)
    if fmt == "csv":
        assert "'=HYPERLINK(" in blob.decode("utf-8-sig") and "'-Meals+cmd" in blob.decode("utf-8-sig")
    else:
        import io

        import openpyxl
        book = openpyxl.load_workbook(io.BytesIO(blob))
        cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
        assert not any(c.data_type == "f" for c in cells)
        assert "'=HYPERLINK(\"http://x\",\"y\")" in [c.value for c in cells]
    target = make_connection(org)
    assert not mapping_set_import(connection=target, content=blob, fmt=fmt, dry_run=False).has_errors
    assert content_of(target) == content_of(connection)
