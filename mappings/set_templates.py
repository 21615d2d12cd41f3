"""The whole mapping set as one template file: CSV, XLSX or JSON.

- CSV: one table with a `kind` column; each kind uses its own columns and leaves the rest blank.
- XLSX: one sheet per kind (what finance teams edit by hand).
- JSON: {"kind": [rows]}.

Import always runs as a dry run first (`mapping_set_import(..., dry_run=True)`) and reports per
row: created, updated, unchanged or the errors, naming the row and the column.
"""

import json
from dataclasses import dataclass, field

import tablib
from django.db import transaction

from .models import MAPPING_MODELS
from .resources import COLUMNS, RESOURCES

FORMATS = ("csv", "xlsx", "json")
CONTENT_TYPES = {"csv": "text/csv", "json": "application/json",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
KINDS = [m.KIND for m in MAPPING_MODELS]


@dataclass
class RowOutcome:
    kind: str
    where: str                  # "row 7" (CSV), "sheet category row 3" (XLSX), "category[2]" (JSON)
    action: str                 # new | update | skip | delete | error
    key: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    dry_run: bool
    rows: list[RowOutcome]

    @property
    def has_errors(self) -> bool:
        return any(r.action == "error" for r in self.rows)

    def totals(self) -> dict[str, int]:
        out = {"new": 0, "update": 0, "skip": 0, "error": 0}
        for r in self.rows:
            out[r.action] = out.get(r.action, 0) + 1
        return out


def _datasets(connection) -> dict[str, tablib.Dataset]:
    return {kind: RESOURCES[kind](connection=connection).export() for kind in KINDS}


def mapping_set_export(*, connection, fmt: str) -> bytes:
    sets = _datasets(connection)
    if fmt == "json":
        return json.dumps({kind: json.loads(ds.export("json")) for kind, ds in sets.items()},
                          indent=2, ensure_ascii=False).encode()
    if fmt == "xlsx":
        book = tablib.Databook()
        for kind, ds in sets.items():
            ds.title = kind
            book.add_sheet(ds)
        return book.export("xlsx")
    if fmt == "csv":
        headers = ["kind"] + list(dict.fromkeys(c for kind in KINDS for c in COLUMNS[kind]))
        flat = tablib.Dataset(headers=headers)
        for kind, ds in sets.items():
            for row in ds.dict:
                flat.append([kind] + [row.get(h, "") if h in COLUMNS[kind] else "" for h in headers[1:]])
        return flat.export("csv").encode("utf-8-sig")
    raise ValueError(f"unknown format {fmt!r}; use one of {FORMATS}")


def _parse(content: bytes, fmt: str) -> dict[str, tuple[tablib.Dataset, list[str]]]:
    """kind -> (dataset of that kind's columns, where each row came from)."""
    out: dict[str, tuple[tablib.Dataset, list[str]]] = {}

    def add(kind, row: dict, where: str):
        if kind not in COLUMNS:
            raise ValueError(f"{where}: unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
        ds, wheres = out.setdefault(kind, (tablib.Dataset(headers=COLUMNS[kind]), []))
        ds.append([row.get(c) for c in COLUMNS[kind]])
        wheres.append(where)

    if fmt == "json":
        data = json.loads(content.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("a JSON template is an object of kind → list of rows")
        for kind, rows in data.items():
            for i, row in enumerate(rows):
                add(kind, row, f"{kind}[{i}]")
    elif fmt == "xlsx":
        book = tablib.Databook()
        book.load(content, "xlsx")
        for sheet in book.sheets():
            for i, row in enumerate(sheet.dict, start=2):  # row 1 holds the headers
                add(sheet.title, row, f"sheet {sheet.title} row {i}")
    elif fmt == "csv":
        flat = tablib.Dataset().load(content.decode("utf-8-sig"), format="csv")
        if "kind" not in (flat.headers or []):
            raise ValueError("a CSV template needs a 'kind' column")
        for i, row in enumerate(flat.dict, start=2):
            add(row.get("kind", ""), {k: (v if v != "" else None) for k, v in row.items()}, f"row {i}")
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {FORMATS}")
    return out


def _row_errors(row_result) -> list[str]:
    errors: list[str] = []
    if row_result.validation_error is not None:
        for column, messages in row_result.validation_error.message_dict.items():
            label = "row" if column == "__all__" else f"column {column}"
            errors.extend(f"{label}: {m}" for m in messages)
    errors.extend(f"{e.error}" for e in row_result.errors)
    return errors


def mapping_set_import(*, connection, content: bytes, fmt: str, dry_run: bool = True) -> ImportReport:
    """Imports a template into `connection`. Nothing is written when any row has an error."""
    try:
        parsed = _parse(content, fmt)
    except Exception as exc:  # a broken file is one error for the person, not a 500
        return ImportReport(dry_run=True, rows=[RowOutcome("", "file", "error", errors=[str(exc)])])
    rows: list[RowOutcome] = []
    with transaction.atomic():
        for kind in KINDS:
            if kind not in parsed:
                continue
            dataset, wheres = parsed[kind]
            resource = RESOURCES[kind](connection=connection)
            # Really written inside our transaction (so later rows see earlier ones), rolled back below
            # for a dry run or when any row fails.
            result = resource.import_data(dataset, dry_run=False, use_transactions=False)
            errors_by_row = {n: [str(e.error) for e in errs] for n, errs in result.row_errors()}
            for n, row_result in enumerate(result.rows):
                key = " / ".join(str(dataset[n][COLUMNS[kind].index(c)] or "") for c in RESOURCES[kind]._meta.import_id_fields)
                errs = _row_errors(row_result) or errors_by_row.get(n + 1, [])
                action = "error" if errs else row_result.import_type
                rows.append(RowOutcome(kind, wheres[n], action, key, [f"{wheres[n]}, {e}" for e in errs]))
        report = ImportReport(dry_run=dry_run or any(r.action == "error" for r in rows), rows=rows)
        if report.dry_run:
            transaction.set_rollback(True)
    return report
