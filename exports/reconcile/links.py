"""Admin drill-down links of a difference: the record, the source document, its receipts and the
record's calls in the call log."""

from django.urls import reverse
from django.utils.http import urlencode

SOURCE_ADMIN = {"expense": "source_expense", "card_funding": "source_cardfunding",
                "reimbursement": "source_reimbursement", "statement_line": "source_bankstatementline"}
SOURCE_FIELD = {"expense": "expense_id", "card_funding": "card_funding_id", "reimbursement": "reimbursement_id",
                "statement_line": "statement_line_id"}


def _source_kind(difference) -> str:
    record = difference.record
    if record is not None:
        for kind, field in SOURCE_FIELD.items():
            if getattr(record, field, None):
                return kind
    return difference.source_kind


def difference_links(difference) -> list[tuple[str, str]]:
    """[(label, url)] for one difference; only what exists."""
    links = []
    record = difference.record
    if record is not None:
        links.append(("record", reverse("admin:exports_exportrecord_change", args=[record.pk])))
    kind = _source_kind(difference)
    if kind in SOURCE_ADMIN:
        source_pk = getattr(record, SOURCE_FIELD[kind], None) if record is not None else None
        if source_pk:
            links.append(("source", reverse(f"admin:{SOURCE_ADMIN[kind]}_change", args=[source_pk])))
        elif difference.source_id:
            links.append(("source", f"{reverse(f'admin:{SOURCE_ADMIN[kind]}_changelist')}?"
                          f"{urlencode({'q': difference.source_id})}"))
        if kind == "expense" and source_pk:
            links.append(("receipts", reverse("admin:source_expense_change", args=[source_pk]) + "#receipts"))
    if record is not None:
        links.append(("call log", f"{reverse('admin:connectors_calllog_changelist')}?"
                      f"{urlencode({'q': str(record.idempotency_key)})}"))
    return links
