"""The built-in checklist items of a month's close (registered with `@checklist_item`).

Each looks at the organisation's documents dated in the month, across every connection, and
links to the admin list that shows what is not ok."""

from collections.abc import Sequence
from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext_noop

from expensico_sync.source.models import BankStatementLine, Expense

from ..models import ExportRecord, Kind, ReviewItem
from ..transitions import Status
from .periods import next_month
from .registry import ItemResult, checklist_item, detail_line

UNSETTLED = (Status.PENDING, Status.RETRY, Status.IN_PROGRESS, Status.OUTCOME_UNKNOWN)


def month_range(period: date) -> tuple[date, date]:
    return period, next_month(period) - timedelta(days=1)


def _url(name: str, **params) -> str:
    return f"{reverse(name)}?{urlencode(params)}" if params else reverse(name)


def _records_url(period, **params) -> str:
    first, last = month_range(period)
    return _url("admin:exports_exportrecord_changelist", document_date_from=first.isoformat(),
                document_date_to=last.isoformat(), **params)


def _reviews_url(**params) -> str:
    return _url("admin:exports_reviewitem_changelist", **params)


def _text(line: str | tuple[str, dict]) -> str:
    return line[0] if isinstance(line, tuple) else line


def _result(bad: Sequence[str | tuple[str, dict]], ok: str, not_ok: str, url: str, **values) -> ItemResult:
    """`ok` and `not_ok` are msgids (gettext_noop) with {placeholders}: the page translates them.
    `bad`: the detail lines, as data (ids) or as `detail_line`s (words the page translates too)."""
    if not bad:
        return ItemResult(ok=True, summary=ok.format(**values), words=ok, values=values)
    values = {**values, "n": len(bad)}
    lines: list[str | tuple[str, dict]] = sorted(bad, key=_text)[:50]
    worded = [line for line in lines if isinstance(line, tuple)]
    return ItemResult(ok=False, summary=not_ok.format(**values), count=len(bad), url=url,
                      details=tuple(_text(line) for line in lines),
                      detail_words=tuple(words for _text, words in worded) if len(worded) == len(lines) else (),
                      words=not_ok, values=values)


def _expenses(organization, period):
    # No ordering: the expense's default order joins its report and sorts the whole month.
    return Expense.objects.filter(organization=organization, status=Expense.Status.APPROVED,
                                  date__range=month_range(period)).order_by()


def _without_record_in_some_connection(organization, expenses):
    """Expensico ids of `expenses` that some connection of the organisation has no record of (never
    picked up, or a connection added since): one anti-join per connection on the record's index."""
    missing: set[str] = set()
    for connection_id in organization.connections.values_list("pk", flat=True):
        booked = ExportRecord.objects.filter(expense=OuterRef("pk"), connection_id=connection_id)
        missing.update(expenses.exclude(Exists(booked)).values_list("expensico_id", flat=True))
    return missing


def _connections(organization) -> int:
    return organization.connections.count()


@checklist_item("expenses_settled", gettext_noop("Every approved expense exported, held with an open reason, or reversed"),
                order=10)
def expenses_settled(organization, period) -> ItemResult:
    expenses = _expenses(organization, period)
    in_flight = ExportRecord.objects.filter(organization=organization, kind=Kind.EXPENSE, status__in=UNSETTLED,
                                            expense__in=expenses).order_by().values_list("source_id", flat=True)
    bad = sorted(set(in_flight) | _without_record_in_some_connection(organization, expenses))
    return _result(bad, gettext_noop("Every approved expense is booked, held with a reason, or reversed"),
                   gettext_noop("{n} approved expenses not exported yet"), _records_url(period, status__exact=Status.PENDING))


@checklist_item("review_sla", gettext_noop("No review item past its SLA"), order=20)
def review_sla(organization, period) -> ItemResult:
    first, last = month_range(period)
    late = ReviewItem.objects.filter(organization=organization, resolved_at__isnull=True,
                                     sla_due_at__lt=timezone.now(), record__document_date__range=(first, last))
    with translation.override("en"):   # the stored line is English; its words say it again in the reader's language
        bad = [detail_line(gettext_noop("{reference}: {reason}"), translate=("reason",), reference=item.record.reference,
                           reason=str(ReviewItem.Reason(item.reason).label)) for item in late.select_related("record")]
    return _result(bad, gettext_noop("No open review item is past its SLA"), gettext_noop("{n} review items past their SLA"),
                   _reviews_url())


@checklist_item("receipts", gettext_noop("No missing receipts without an explanation"), order=30)
def receipts(organization, period) -> ItemResult:
    # Mileage, per diem and honoraria carry no receipt. An explanation is a note a person left
    # when resolving a review item of the expense (e.g. the missing-receipt hold).
    explained = ReviewItem.objects.filter(organization=organization, resolved_at__isnull=False).exclude(
        resolution_note="").values("record__expense_id")
    from expensico_sync.source.models import Receipt
    missing = _expenses(organization, period).filter(type="expense").exclude(
        Exists(Receipt.objects.filter(expense=OuterRef("pk")))).exclude(pk__in=explained).values_list(
        "expensico_id", flat=True)
    return _result(list(missing), gettext_noop("Every expense has its receipt or an explanation"),
                   gettext_noop("{n} expenses without a receipt or an explanation"),
                   _reviews_url(reason__exact=ReviewItem.Reason.MISSING_RECEIPT))


@checklist_item("mappings", gettext_noop("No unmapped categories"), order=40)
def mappings(organization, period) -> ItemResult:
    first, last = month_range(period)
    gaps = ReviewItem.objects.filter(organization=organization, resolved_at__isnull=True,
                                     reason=ReviewItem.Reason.MAPPING_GAP,
                                     record__document_date__range=(first, last))
    keys = {(i["kind"], i["key"]) for item in gaps for i in item.context.get("items", ()) if "key" in i}
    bad: list = [detail_line(gettext_noop("{kind} {key}"), translate=("kind",), kind=kind, key=key)
                 for kind, key in sorted(keys)] or [item.record.reference for item in gaps.select_related("record")]
    return _result(bad, gettext_noop("Every category of the month is mapped"), gettext_noop("{n} unmapped categories or mappings"),
                   _reviews_url(reason__exact=ReviewItem.Reason.MAPPING_GAP))


@checklist_item("statement", gettext_noop("Statement complete"), order=50)
def statement(organization, period) -> ItemResult:
    lines = BankStatementLine.objects.filter(organization=organization, date__range=month_range(period))
    unbooked = lines.filter(Q(export_records__status__in=UNSETTLED)).values_list("expensico_id", flat=True)
    missing = lines.annotate(n=Count("export_records__connection", distinct=True)).filter(
        n__lt=_connections(organization)).values_list("expensico_id", flat=True)
    bad = sorted(set(unbooked) | set(missing))
    return _result(bad, gettext_noop("All {total} statement lines of the month are booked"),
                   gettext_noop("{n} statement lines not booked yet"),
                   _records_url(period, kind__exact=Kind.STATEMENT_TRANSACTION, status__exact=Status.PENDING),
                   total=lines.count())
