"""The review queue as a finance admin reads it: each item with its document (connection, date,
amount, employee, merchant, description in both languages, receipt), the vendor's error in words
and the one action that fixes it. Bulk actions say how many items and how much money first.

Rows come from one query (the source documents joined, the receipt as an EXISTS), so the page
costs the same whatever it shows (tests/exports/test_scale.py)."""

from decimal import Decimal

from django.contrib import admin, messages
from django.db.models import Exists, Sum
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ExportMixin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter, RelatedDropdownFilter
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import action

from connectors.models import Connection
from expensico_sync.core.admin.confirm import bulk_confirmation, confirmed_action
from expensico_sync.core.admin.scoping import OrgScopedAdmin, access_of
from expensico_sync.core.formatting import money_text
from expensico_sync.source.models import Receipt

from .close.resources import ReviewItemResource
from .errors import Refused
from .models import ReviewItem
from .receipt_preview import first_receipt_annotations, record_expense_id
from .refusals import refusal_shown
from .review_columns import DOCUMENTS, ReviewColumns
from .review_forms import BookedManuallyForm, ReasonForm, ReviewResolveForm
from .review_words import fix_for
from .services import review as review_services
from .services.coding import suggestion_answer
from .services.holds import hold_release
from .transitions import Status

R = ReviewItem.Reason


def _run(request, fn, ok_message) -> bool:
    try:
        fn()
    except Refused as exc:
        messages.error(request, refusal_shown(exc))
        return False
    messages.success(request, ok_message)
    return True


class ConnectionFilter(admin.SimpleListFilter):
    title = _("connection")
    parameter_name = "connection"

    def lookups(self, request, model_admin):
        qs = Connection.objects.order_by("name").only("pk", "name")
        if not request.user.is_superuser:
            qs = qs.filter(organization__in=list(access_of(request).org_ids))
        return [(c.pk, c.name) for c in qs]

    def queryset(self, request, queryset):
        return queryset.filter(record__connection_id=self.value()) if self.value() else queryset


def money_totals(queryset) -> list[str]:
    """What the items' documents add up to, per currency, in one query per document kind."""
    totals: dict[str, Decimal] = {}
    for name in DOCUMENTS:
        rows = (queryset.order_by().filter(**{f"record__{name}__isnull": False})
                .values(f"record__{name}__currency").annotate(total=Sum(f"record__{name}__amount")))
        for row in rows:
            currency = row[f"record__{name}__currency"]
            totals[currency] = totals.get(currency, Decimal(0)) + row["total"]
    return [money_text(amount, currency) for currency, amount in sorted(totals.items())]


@admin.register(ReviewItem)
class ReviewItemAdmin(ReviewColumns, ExportMixin, OrgScopedAdmin):
    capability = "review.work"
    resource_classes = [ReviewItemResource]
    export_form_class = ExportForm
    form = ReviewResolveForm
    # Fits 1280 and 1440 px (tests/e2e/test_review_queue_width.py): the owner is a filter (and "assign to
    # me" an action); the receipt sits under the amount, the reason's badge over the vendor's words; long
    # text is clipped or cut to three lines, the whole text in its tooltip (review-* in admin.css).
    list_display = ("record_link", "amount", "document", "said", "fix_link", "sla")
    list_filter = (("reason", ChoicesDropdownFilter), ConnectionFilter, ("severity", ChoicesDropdownFilter),
                   "resolution", ("owner", RelatedDropdownFilter), ("created_at", RangeDateFilter))
    list_filter_submit = True
    search_fields = ("^record__reference", "^record__external_id")
    sortable_by = ("sla",)  # the other columns sorted the open queue joined to every record
    list_select_related = ("owner", "record__connection", "record__employee",
                           *(f"record__{name}" for name in DOCUMENTS))
    actions = ["retry_selected", "acknowledge_selected", "assign_to_me"]
    actions_detail = ["retry_one", "receipt_arrived", "book_without_receipt", "release_one", "accept_suggestion",
                      "acknowledge_one", "book_existing", {"title": _("Other resolutions"), "icon": "more_horiz",
                                          "items": ["book_manually", "skip_one"]}]
    readonly_fields = ("record_link", "reason_text", "severity", "document_card", "error_words", "fix_text",
                       "fix_link", "due_by", "resolution", "resolved_by_text", "resolved_at", "created_at")
    fieldsets = (
        (None, {"fields": ("record_link", "reason_text", "severity", "document_card", "error_words", "fix_text",
                           "fix_link", "due_by", "created_at")}),
        (_("Work"), {"fields": ("owner", "resolve_as", "manual_external_reference", "resolution_note",
                                ("correct_account", "correct_account_name"))}),
        (_("Resolution"), {"fields": ("resolution", "resolved_by_text", "resolved_at")}),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is not None and obj.reason == ReviewItem.Reason.SUGGESTED_CODING:
            return self.fieldsets
        # "Correct account" answers a suggested coding only: on a mapping gap or a refusal it was a dead box.
        top, (work_title, work), rest = self.fieldsets[0], self.fieldsets[1], self.fieldsets[2:]
        fields = tuple(f for f in work["fields"] if f != ("correct_account", "correct_account_name"))
        return (top, (work_title, {**work, "fields": fields}), *rest)

    def get_queryset(self, request):
        qs = super().get_queryset(request).annotate(
            _has_receipt=Exists(Receipt.objects.filter(expense_id=record_expense_id())),
            **first_receipt_annotations(record_expense_id()))
        # The queue shows open items unless the user asks for resolved ones.
        if "resolution" not in request.GET and "resolution__exact" not in request.GET and \
                request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            qs = qs.filter(resolved_at__isnull=True)
        return qs

    def has_add_permission(self, request, *args):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- which buttons an item offers -------------------------------------------------------------

    def _item(self, request, object_id):
        kept = request.__dict__.setdefault("_review_items", {})
        if object_id not in kept:
            kept[object_id] = ReviewItem.objects.select_related("record").filter(pk=object_id).first()
        return kept[object_id]

    def _offers(self, request, object_id, *actions) -> bool:
        if object_id is None:
            return True
        item = self._item(request, object_id)
        return item is not None and item.is_open and self._can(request, item) and self._action_of(item) in actions

    @staticmethod
    def _action_of(item) -> str:
        return fix_for(item)[1]

    def _parked(self, request, object_id) -> bool:
        if object_id is None:
            return True
        item = self._item(request, object_id)
        return bool(item and item.is_open and not item.is_warning and item.record.status == Status.NEEDS_REVIEW
                    and self._can(request, item))

    def has_retry_permission(self, request, object_id=None):
        # Not where booking manually is the fix (a duplicate conflict): the vendor would refuse it again.
        return self._parked(request, object_id) and self._offers(
            request, object_id, "retry", "mapping", "reconnect", "accept")

    def has_receipt_permission(self, request, object_id=None):
        return self._parked(request, object_id) and self._offers(request, object_id, "receipt")

    def has_release_permission(self, request, object_id=None):
        return self._parked(request, object_id) and self._offers(request, object_id, "release")

    def has_suggestion_permission(self, request, object_id=None):
        return self._parked(request, object_id) and self._offers(request, object_id, "accept")

    def has_acknowledge_permission(self, request, object_id=None):
        return self._offers(request, object_id, "acknowledge")

    def has_parked_permission(self, request, object_id=None):
        return self._parked(request, object_id)

    def has_existing_permission(self, request, object_id=None):
        """“Booked manually” as the item's own button where it is the fix; elsewhere it sits in the menu."""
        return self._parked(request, object_id) and self._offers(request, object_id, "book_manually")

    def has_booked_permission(self, request, object_id=None):
        return self._parked(request, object_id) and not (
            object_id is not None and self.has_existing_permission(request, object_id))

    # --- columns ----------------------------------------------------------------------------------

    # --- saving the form --------------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        review_services.review_item_assign(item=obj, owner=form.cleaned_data.get("owner"))
        how = form.cleaned_data.get("resolve_as")
        account = form.cleaned_data.get("correct_account")
        if account and obj.is_open:
            _run(request, lambda: suggestion_answer(item=obj, by=request.user, account=account,
                                                    account_name=form.cleaned_data.get("correct_account_name") or ""),
                 _("Corrected: the expense is booked to that account and the model learns it."))
        elif how and obj.is_open:
            _run(request, lambda: review_services.review_item_resolve(
                item=obj, resolution=how, by=request.user, note=form.cleaned_data.get("resolution_note") or "",
                external_reference=form.cleaned_data.get("manual_external_reference") or ""), _("Resolved."))

    # --- one item ---------------------------------------------------------------------------------

    def _resolve(self, request, object_id, resolution, ok, **kw):
        item = self.get_queryset(request).get(pk=object_id)
        _run(request, lambda: review_services.review_item_resolve(item=item, resolution=resolution,
                                                                  by=request.user, **kw), ok)
        return redirect("admin:exports_reviewitem_changelist")

    @confirmed_action(description=_("Retry"), icon="replay", permissions=("change", "retry"),
                      what=_("The item is resolved as retried and its record is queued to be sent again."))
    def retry_one(self, request, object_id):
        return self._resolve(request, object_id, ReviewItem.Resolution.RETRIED, _("Queued to retry."))

    @confirmed_action(description=_("Receipt arrived — retry"), icon="receipt_long", permissions=("change", "receipt"),
                      what=_("The receipt is in Expensico now: the record goes again, with the receipt attached."))
    def receipt_arrived(self, request, object_id):
        return self._resolve(request, object_id, ReviewItem.Resolution.RETRIED,
                             _("Queued to retry with its receipt."), note=_("receipt arrived"))

    @confirmed_action(description=_("Book without receipt"), icon="do_not_disturb_on",
                      permissions=("change", "receipt"), form_class=ReasonForm, submit=_("Book without receipt"),
                      what=_("The expense is booked without its receipt. Say why: the reason is kept with your "
                             "approval. Above the organisation's two-person amount a second approver must agree."))
    def book_without_receipt(self, request, object_id, form=None):
        return self._release(request, object_id, note=form.cleaned_data["reason"] if form else "")

    @confirmed_action(description=_("Approve and export"), icon="verified", submit=_("Approve"),
                      permissions=("change", "release"),
                      what=_("You approve this held expense for export. Above the organisation's two-person amount a "
                             "second, different approver must approve too. Your approval is recorded."))
    def release_one(self, request, object_id):
        return self._release(request, object_id)

    def _release(self, request, object_id, note=""):
        item = self.get_queryset(request).get(pk=object_id)
        done = []
        ok = _run(request, lambda: done.append(hold_release(item=item, by=request.user, note=note)), _("Approved."))
        if ok and not done[0].released:
            messages.info(request, _("First approval recorded: a second, different approver must approve."))
        return redirect("admin:exports_reviewitem_changelist")

    @confirmed_action(description=_("Accept suggestion"), icon="check", submit=_("Accept"),
                      permissions=("change", "suggestion"),
                      what=_("The suggested account codes this expense, the record goes again, and the model "
                             "learns the decision."))
    def accept_suggestion(self, request, object_id):
        item = self.get_queryset(request).get(pk=object_id)
        _run(request, lambda: suggestion_answer(item=item, by=request.user), _("Accepted."))
        return redirect("admin:exports_reviewitem_changelist")

    @confirmed_action(description=_("Acknowledge"), icon="done", permissions=("change", "acknowledge"),
                      what=_("The vendor warning is marked as acknowledged and leaves the review queue."))
    def acknowledge_one(self, request, object_id):
        return self._resolve(request, object_id, ReviewItem.Resolution.ACKNOWLEDGED, _("Acknowledged."))

    @confirmed_action(description=_("Booked manually"), icon="edit_note", permissions=("change", "booked"),
                      form_class=BookedManuallyForm, submit=_("Booked manually"),
                      what=_("Someone booked this document in the accounting system by hand: give its reference. "
                             "The record counts as exported and its last error is cleared."))
    def book_manually(self, request, object_id, form=None):
        return self._booked(request, object_id, form)

    @confirmed_action(description=_("Booked manually"), icon="edit_note", permissions=("change", "existing"),
                      form_class=BookedManuallyForm, submit=_("Booked manually"),
                      what=_("The accounting system already holds this document: give its reference there (the "
                             "vendor's message usually names it). The record counts as exported under it and is "
                             "not sent again."))
    def book_existing(self, request, object_id, form=None):
        return self._booked(request, object_id, form)

    def _booked(self, request, object_id, form):
        data = form.cleaned_data if form else {}
        return self._resolve(request, object_id, ReviewItem.Resolution.BOOKED_MANUALLY, _("Marked as booked."),
                             external_reference=data.get("external_reference", ""), note=data.get("note", ""))

    @confirmed_action(description=_("Skip"), icon="block", permissions=("change", "parked"), form_class=ReasonForm,
                      submit=_("Skip"), what=_("The record is cancelled and never sent. Say why."))
    def skip_one(self, request, object_id, form=None):
        return self._resolve(request, object_id, ReviewItem.Resolution.SKIPPED, _("Skipped."),
                             note=form.cleaned_data["reason"] if form else "")

    # --- many items -------------------------------------------------------------------------------

    def _ask(self, request, queryset, *, title, what, submit):
        count = queryset.count()
        rows = [(_("Items"), count), (_("Amount"), ", ".join(money_totals(queryset)) or "—")]
        return bulk_confirmation(self, request, queryset, title=title, what=what, rows=rows, submit=submit)

    @action(description=_("Retry selected (after a fix)"), icon="replay", permissions=["change"])
    def retry_selected(self, request, queryset):
        # Not a duplicate conflict: the vendor would refuse it again (its fix is "Booked manually").
        parked = queryset.filter(resolved_at__isnull=True).exclude(reason__in=(R.VENDOR_WARNING, R.VENDOR_MISMATCH,
                                                                                R.DUPLICATE_CONFLICT))
        asked = self._ask(request, parked, title=_("Retry the selected items"), submit=_("Retry them"),
                          what=_("Each open item waiting in review is resolved as retried and its record is sent "
                                 "again. Vendor warnings and duplicate conflicts are left alone."))
        if asked is not None:
            return asked
        done = review_services.review_items_retry(items=list(parked), by=request.user)
        warnings = sum(1 for i in queryset if i.is_open and i.is_warning)
        messages.success(request, ngettext("%(done)s record queued to retry.", "%(done)s records queued to retry.",
                                           done) % {"done": done}
                         + (" " + ngettext("%(n)s vendor warning left alone: acknowledge it.",
                                           "%(n)s vendor warnings left alone: acknowledge them.", warnings)
                            % {"n": warnings} if warnings else ""))
        return None

    @action(description=_("Acknowledge selected warnings"), icon="done_all", permissions=["change"])
    def acknowledge_selected(self, request, queryset):
        asked = self._ask(request, queryset.filter(resolved_at__isnull=True),
                          title=_("Acknowledge the selected warnings"), submit=_("Acknowledge them"),
                          what=_("Open vendor warnings on booked records leave the queue; other items are left "
                                 "alone."))
        if asked is not None:
            return asked
        items = list(queryset)
        done = review_services.review_items_acknowledge(items=items, by=request.user)
        messages.success(request, ngettext("%(done)s vendor warning acknowledged.",
                                           "%(done)s vendor warnings acknowledged.", done) % {"done": done}
                         + (" " + ngettext("%(n)s other item left alone.", "%(n)s other items left alone.",
                                           len(items) - done) % {"n": len(items) - done}
                            if len(items) > done else ""))
        return None

    @action(description=_("Assign to me"), icon="person_add", permissions=["change"])
    def assign_to_me(self, request, queryset):
        for item in queryset:
            review_services.review_item_assign(item=item, owner=request.user)
        count = queryset.count()
        messages.success(request, ngettext("%(n)s item assigned to you.", "%(n)s items assigned to you.", count)
                         % {"n": count})

