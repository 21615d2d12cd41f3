"""Admin screens for the Expensico mirror and the intake logs.

Mirror rows are Expensico's data: they are read-only here (they change only through intake or a
pull sync). Pull syncs can be started and resumed by members who hold `source.manage`.
"""

import json

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_q.tasks import async_task
from unfold.admin import TabularInline
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesDropdownFilter,
    RangeDateFilter,
    RangeDateTimeFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import display

from expensico_sync.core.admin.columns import money_column, text_column
from expensico_sync.core.admin.confirm import confirmed_action
from expensico_sync.core.admin.paging import values_filter
from expensico_sync.core.admin.scoping import OrgScopedAdmin
from expensico_sync.core.formatting import bidi, clipped, money_html

from .models import (
    BankStatementLine,
    CardFunding,
    Category,
    Employee,
    Expense,
    ExpenseReport,
    PullSync,
    Receipt,
    Reimbursement,
    WebhookDelivery,
)
from .pull import pull_sync_create
from .receipt_views import receipt_url

OUTCOME_LABELS = {"accepted": "success", "duplicate": "info", "rejected": "danger"}
STATUS_LABELS = {"approved": "success", "cancelled": "danger", "pending": "info", "running": "warning",
                 "succeeded": "success", "failed": "danger"}


class ReadOnlyMirrorAdmin(OrgScopedAdmin):
    capability = "source.manage"
    warn_unsaved_form = False

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def pretty_json(value) -> str:
    return format_html('<pre class="payload" style="white-space: pre-wrap; max-height: 40rem; overflow: auto">'
                       "{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str))


class ExpenseInline(TabularInline):
    model = Expense
    extra = 0
    fields = ("expensico_id", "version", "type", "date", "merchant", "category", "funding_source", "amount",
              "currency", "status")
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ExpenseReport)
class ExpenseReportAdmin(ReadOnlyMirrorAdmin):
    list_display = ("number", "title_text", "employee_text", "approved_at", "currency", "expense_count")
    title_text = text_column("title", description=_("Title"))
    employee_text = text_column("employee.name", description=_("Employee"))
    list_filter = (("employee", AutocompleteSelectFilter), ("approved_at", RangeDateTimeFilter),
                   values_filter("currency"))
    list_filter_submit = True
    # Prefix and exact matches on indexed columns; a join to the expenses made every search a DISTINCT.
    search_fields = ("^number", "=expensico_id")
    sortable_by = ("number", "approved_at")
    list_select_related = ("employee",)
    inlines = [ExpenseInline]
    readonly_fields = ("payload",)
    exclude = ("raw",)

    def get_queryset(self, request):
        # A correlated count: PostgreSQL evaluates it for the page's rows only, after the LIMIT.
        counts = (Expense.objects.filter(report=OuterRef("pk")).order_by().values("report")
                  .annotate(n=Count("pk")).values("n"))
        return super().get_queryset(request).defer("raw").annotate(_expenses=Coalesce(Subquery(counts), 0))

    @display(description=_("Expenses"))
    def expense_count(self, obj):
        return obj._expenses if hasattr(obj, "_expenses") else obj.expenses.count()

    @display(description=_("Last accepted payload"))
    def payload(self, obj):
        return pretty_json(obj.raw)


class ReceiptInline(TabularInline):
    model = Receipt
    extra = 0
    fields = ("filename", "open_link", "content_type", "size", "sha256", "verified", "fetched_at", "fetch_error")
    readonly_fields = fields
    can_delete = False

    @display(description=_("File"))
    def open_link(self, obj):
        # The authenticated, organisation-scoped view: the storage URL (/media/…) is not served.
        if not obj.file:
            return _("not fetched yet")
        return format_html('<a class="text-primary-600 underline" href="{}" target="_blank" rel="noopener">{}</a>',
                           receipt_url(obj), _("Open receipt"))

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Shown only inside an expense the parent admin already lets this member see; members hold
        # no Django model permissions, so the default hid receipts (and why one was refused) from them.
        return True


@admin.register(Expense)
class ExpenseAdmin(ReadOnlyMirrorAdmin):
    inlines = [ReceiptInline]
    # Fits 1440 px: the type and version are on the expense's page (and the type is a filter); long
    # names are clipped, the whole name in the tooltip.
    list_display = ("expensico_id", "report", "date", "employee_text", "category_text", "funding_source",
                    "merchant_text", "amount_text", "status_badge", "receipt_flag")
    list_filter = (("status", ChoicesDropdownFilter), ("employee", AutocompleteSelectFilter),
                   ("category", RelatedDropdownFilter), ("funding_source", ChoicesDropdownFilter),
                   ("type", ChoicesDropdownFilter), values_filter("currency"), ("date", RangeDateFilter))
    list_filter_submit = True
    search_fields = ("=expensico_id", "^merchant")
    search_help_text = _("Expense id, the start of the merchant's name, or the start of the report number.")
    # Employees are picked by autocomplete: a dropdown rendered every employee on every page.
    # Each sortable column has an index (organisation first, and alone for superusers).
    sortable_by = ("expensico_id", "date", "amount_text")
    ordering = ("-date", "-id")
    list_select_related = ("report", "employee", "category")
    # Shown as text in its own direction and as money: a plain read-only field turned
    # "مكافأة سائق - 2026-01-03" into 03-01-2026 and showed 1851.99 without separators or its currency.
    SHOWN_AS = {"merchant": "merchant_view", "description": "description_view",
                "description_ar": "description_ar_view", "amount": "amount_text", "tax_amount": "tax_amount_view"}
    readonly_fields = ("dimensions_view", "details_view", "custom_fields_view", *SHOWN_AS.values())
    exclude = ("dimensions", "details", "custom_fields")

    def get_fields(self, request, obj=None):
        return list(dict.fromkeys(self.SHOWN_AS.get(f, f) for f in super().get_fields(request, obj)))

    @display(description=_("merchant"))
    def merchant_view(self, obj):
        return bidi(obj.merchant)

    @display(description=_("description"))
    def description_view(self, obj):
        return bidi(obj.description)

    @display(description=_("description (Arabic)"))
    def description_ar_view(self, obj):
        return bidi(obj.description_ar)

    @display(description=_("tax amount"))
    def tax_amount_view(self, obj):
        return money_html(obj.tax_amount, obj.currency)

    def get_queryset(self, request):
        # EXISTS per row of the page, not Count() grouping every expense with its receipts.
        has_receipts = Exists(Receipt.objects.filter(expense=OuterRef("pk")))
        return super().get_queryset(request).defer("report__raw").annotate(_receipts=has_receipts)

    @display(description=_("Amount"), ordering="amount")
    def amount_text(self, obj):
        return money_html(obj.amount, obj.currency)

    @display(description=_("Merchant"), ordering="merchant")
    def merchant_text(self, obj):
        return clipped(obj.merchant, width="7rem")

    @display(description=_("Employee"))
    def employee_text(self, obj):
        return clipped(obj.employee.name if obj.employee_id else "", width="6rem")

    @display(description=_("Category"))
    def category_text(self, obj):
        return clipped(str(obj.category) if obj.category_id else "", width="6rem")

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term:
            return queryset, may_have_duplicates
        # The report's number, as a list of ids: a join in the OR would defeat every index.
        reports = list(ExpenseReport.objects.filter(number__istartswith=term).values_list("pk", flat=True)[:200])
        if reports:
            queryset |= self.get_queryset(request).filter(report_id__in=reports)
        return queryset, may_have_duplicates

    @display(description=_("Status"), label=STATUS_LABELS)
    def status_badge(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("Receipt"), label={"yes": "success", "missing": "warning"})
    def receipt_flag(self, obj):
        return ("yes", _("attached")) if obj._receipts else ("missing", _("missing"))

    @display(description=_("Dimensions"))
    def dimensions_view(self, obj):
        return pretty_json(obj.dimensions)

    @display(description=_("Details"))
    def details_view(self, obj):
        return pretty_json(obj.details)

    @display(description=_("Custom fields"))
    def custom_fields_view(self, obj):
        return pretty_json(obj.custom_fields)


@admin.register(Employee)
class EmployeeAdmin(ReadOnlyMirrorAdmin):
    list_display = ("name", "email", "expensico_id")
    search_fields = ("name", "email", "expensico_id")


@admin.register(Category)
class CategoryAdmin(ReadOnlyMirrorAdmin):
    list_display = ("code", "name", "active", "expensico_id")
    list_filter = ("active",)
    search_fields = ("code", "name", "expensico_id")


@admin.register(CardFunding)
class CardFundingAdmin(ReadOnlyMirrorAdmin):
    list_display = ("expensico_id", "date", "employee_text", "card", "direction", "amount_text", "bank_reference")
    amount_text = money_column()
    employee_text = text_column("employee.name", description=_("Employee"))
    list_filter = (("direction", ChoicesDropdownFilter), ("date", RangeDateFilter), values_filter("currency"))
    list_filter_submit = True
    search_fields = ("expensico_id", "bank_reference", "employee__name")
    list_select_related = ("employee", "card")


@admin.register(Reimbursement)
class ReimbursementAdmin(ReadOnlyMirrorAdmin):
    list_display = ("expensico_id", "date", "employee_text", "amount_text", "bank_reference")
    amount_text = money_column()
    employee_text = text_column("employee.name", description=_("Employee"))
    list_filter = (("date", RangeDateFilter), values_filter("currency"))
    list_filter_submit = True
    search_fields = ("expensico_id", "bank_reference", "employee__name")
    list_select_related = ("employee",)


@admin.register(BankStatementLine)
class BankStatementLineAdmin(ReadOnlyMirrorAdmin):
    list_display = ("date", "bank_account_name", "description_text", "amount_text", "balance_text", "bank_reference")
    description_text = text_column("description", description=_("Description"))
    amount_text = money_column()
    balance_text = money_column("balance", description=_("Balance"))
    list_filter = (("date", RangeDateFilter), values_filter("bank_account_id", _("bank account")))
    list_filter_submit = True
    search_fields = ("expensico_id", "reference", "bank_reference", "description")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyMirrorAdmin):
    list_display = ("webhook_id", "event_type", "received_at", "outcome_badge", "signature_badge", "reason_short")
    list_filter = (("outcome", ChoicesDropdownFilter), values_filter("event_type", _("event type")),
                   ("received_at", RangeDateTimeFilter))
    list_filter_submit = True
    search_fields = ("=webhook_id",)
    sortable_by = ("received_at",)
    fields = ("organization", "webhook_id", "event_type", "received_at", "outcome", "signature_valid", "reason",
              "headers_view", "decisions_view", "payload")
    readonly_fields = fields

    @display(description=_("Outcome"), label=OUTCOME_LABELS)
    def outcome_badge(self, obj):
        return obj.outcome

    @display(description=_("Signature"), label={"valid": "success", "invalid": "danger"})
    def signature_badge(self, obj):
        return ("valid", _("valid")) if obj.signature_valid else ("invalid", _("invalid"))

    @display(description=_("Reason"))
    def reason_short(self, obj):
        return (obj.reason[:80] + "…") if len(obj.reason) > 80 else obj.reason

    @display(description=_("Headers"))
    def headers_view(self, obj):
        return pretty_json(obj.headers)

    @display(description=_("Decisions"))
    def decisions_view(self, obj):
        return pretty_json(obj.decisions)

    @display(description=_("Payload"))
    def payload(self, obj):
        try:
            value = json.loads(obj.body)
        except ValueError:
            # Not JSON (it was rejected for that): show the raw text, escaped.
            return format_html('<pre class="payload">{}</pre>', obj.body)
        return pretty_json(value)


@admin.register(PullSync)
class PullSyncAdmin(OrgScopedAdmin):
    capability = "source.manage"
    list_display = ("__str__", "organization", "status_badge", "progress", "started_at", "finished_at")
    list_filter = (("status", ChoicesDropdownFilter),)
    fields = ("organization", "date_from", "date_to", "status", "progress", "counts", "cursor", "started_at",
              "finished_at", "error")
    actions_detail = ["run_now"]

    def get_readonly_fields(self, request, obj=None):
        base = ("status", "progress", "counts", "cursor", "started_at", "finished_at", "error")
        return base + (("organization", "date_from", "date_to") if obj else ())

    def has_delete_permission(self, request, obj=None):
        return False

    @display(description=_("Status"), label=STATUS_LABELS)
    def status_badge(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("Progress"))
    def progress(self, obj):
        total = sum(v for k, v in (obj.counts or {}).items() if k in PullSync.STREAMS)
        return f"{obj.streams_done}/{len(PullSync.STREAMS)} streams · {total} rows"

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = pull_sync_create(organization=obj.organization, date_from=obj.date_from, date_to=obj.date_to)
        obj.pk = created.pk
        transaction.on_commit(lambda: async_task("expensico_sync.source.tasks.pull_sync", created.pk))

    @confirmed_action(description=_("Run / resume"), icon="play_arrow",
                      what=_("The pull sync is queued and resumes from its last saved cursor."))
    def run_now(self, request, object_id):
        run = self.get_queryset(request).get(pk=object_id)
        if run.status == PullSync.Status.RUNNING:
            messages.warning(request, _("This sync is already running."))
        else:
            async_task("expensico_sync.source.tasks.pull_sync", run.pk)
            messages.info(request, _("Queued: the sync resumes from its last saved cursor."))
        return redirect("admin:source_pullsync_change", object_id)
