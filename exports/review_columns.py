"""The review queue's columns and the item's document card: the document (connection, date, amount,
employee, merchant, description in both languages, receipt), what happened in words, and the one
action that fixes it. A mixin of the review item admin (exports/admin_review.py)."""

from html import unescape

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join, strip_tags
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from expensico_sync.core.formatting import bidi, clipped, money_html

from .messages import shown, word_shown
from .models import ReviewItem
from .receipt_preview import receipt_indicator, receipt_previews
from .review_links import where_to_fix
from .review_words import error_in_words, fix_for

R = ReviewItem.Reason
# Every reason needs a colour: Unfold shows the raw key ("REMOTE_ERROR") for a reason missing here.
REASON_COLOURS = {reason: "warning" for reason in R} | {
    R.HOLD_RULE: "info", R.SUGGESTED_CODING: "success", R.MISSING_RECEIPT: "info", R.VENDOR_WARNING: "info",
    R.IMPORT_FAILED: "danger", R.VALIDATION: "danger", R.AUTH: "danger", R.DUPLICATE_CONFLICT: "danger",
    R.REMOTE_ERROR: "danger", R.RETRIES_EXHAUSTED: "danger", R.VENDOR_MISMATCH: "danger", R.PREFLIGHT_FAILED: "danger",
    R.ANOMALY: "info"}
DOCUMENTS = ("expense", "card_funding", "reimbursement", "statement_line")


def document_of(record):
    """The record's source document (already joined), or None for a reversal."""
    for name in DOCUMENTS:
        if getattr(record, f"{name}_id"):
            return getattr(record, name)
    return None


class ReviewColumns:
    """What the queue and the item's page show (read-only)."""


    @display(description=_("Record"), ordering="record__reference")
    def record_link(self, obj):
        url = reverse("admin:exports_exportrecord_change", args=[obj.record_id])
        record = obj.record
        under = f"{record.connection.name} · {record.document_date.isoformat() if record.document_date else '—'}"
        return format_html('<a class="text-primary-600" href="{}">{}</a><div class="text-xs text-base-500">{}</div>',
                           url, record.reference, clipped(under, width="7rem"))

    @display(description=_("Reason"))
    def reason_text(self, obj):
        return obj.get_reason_display()

    @display(description=_("Amount · receipt"))
    def amount(self, obj):
        doc, receipt = document_of(obj.record), self.receipt(obj)
        money = money_html(doc.amount, doc.currency) if doc is not None else "—"
        return format_html('{}<div class="text-xs">{}</div>', money, receipt) if receipt is not None else money

    @display(description=_("Employee · merchant · description"))
    def document(self, obj):
        doc, record = document_of(obj.record), obj.record
        employee = record.employee.name if record.employee_id else ""
        merchant = getattr(doc, "merchant", "") if doc is not None else ""
        head = " · ".join(part for part in (employee, merchant) if part) or "—"
        # Clipped (the whole text in the tooltip, and on the item's page): the queue fits 1440 px.
        lines = [format_html('<div class="font-medium">{}</div>', clipped(head, width="10rem"))]
        for text in (getattr(doc, "description", ""), getattr(doc, "description_ar", "")):
            if text:
                lines.append(format_html('<div class="text-xs">{}</div>', clipped(text, width="10rem")))
        return format_html('<div class="review-doc">{}</div>', format_html_join("", "{}", ((line,) for line in lines)))

    @display(description=_("Receipt"))
    def receipt(self, obj):
        if not obj.record.expense_id:
            return None
        if not obj._has_receipt:
            return format_html('<span class="text-orange-600" data-test="receipt-indicator">{}</span>', _("missing"))
        return receipt_indicator(obj._receipt_id, obj._receipt_type, bool(obj._receipt_file))

    @display(description=_("What happened"))
    def error_words(self, obj):
        """Our words (a hold, a gap) or the vendor's, whole: the list cuts them to three lines."""
        return bidi(error_in_words(shown(obj.detail, obj.detail_message) if obj.detail
                                   else shown(obj.record.last_error, obj.record.last_error_message)))

    @display(description=_("Reason · what happened"))
    def said(self, obj):
        """The reason's badge over the vendor's words, cut to three lines (the whole text in the tooltip)."""
        badge = render_to_string("unfold/helpers/label.html", {"text": obj.get_reason_display(),
                                                                "type": REASON_COLOURS.get(obj.reason, "info")})
        words = self.error_words(obj)
        return format_html('{}<div class="review-said text-sm mt-1" dir="auto" title="{}">{}</div>',
                           badge, unescape(strip_tags(words)), words)

    @display(description=_("How to fix it"))
    def fix_text(self, obj):
        return fix_for(obj)[0]

    @display(description=_("Fix"))
    def fix_link(self, obj):
        """The one action that fixes the item: a mapping to add, the connection to re-authorise, or the
        item's own button (its URL asks before it acts)."""
        if not obj.is_open:
            return "—"
        kind = fix_for(obj)[1]
        links = []
        if kind == "mapping":
            links = self._mapping_links(obj)
        elif kind == "reconnect":
            links = [(reverse("admin:connectors_connection_change", args=[obj.record.connection_id]),
                      _("Re-authorise the connection"))]
        elif kind == "receipt":
            links = [(self._action_url("receipt_arrived", obj), _("Receipt arrived — retry")),
                     (self._action_url("book_without_receipt", obj), _("Book without receipt")),
                     (reverse("admin:source_expense_change", args=[obj.record.expense_id]), _("Open the expense"))]
        elif kind != "anomaly":   # an anomaly is decided on its flag's page (review_links)
            names = {"retry": ("retry_one", _("Retry")), "release": ("release_one", _("Approve and export")),
                     "accept": ("accept_suggestion", _("Accept suggestion")),
                     "acknowledge": ("acknowledge_one", _("Acknowledge")),
                     "book_manually": ("book_existing", _("Booked manually"))}
            name, label = names[kind]
            links = [(self._action_url(name, obj), label)]
        links = [*where_to_fix(obj), *links]
        # One line per link, clipped to the column (review-fix in admin.css), its words in the tooltip.
        return format_html('<div class="review-fix">{}</div>', format_html_join(
            "", '<a class="text-primary-600 underline" href="{}" title="{}">{}</a>',
            ((url, label, label) for url, label in links))) if links else "—"

    @staticmethod
    def _action_url(name, obj) -> str:
        return reverse(f"admin:exports_reviewitem_{name}", args=[obj.pk])

    @staticmethod
    def _mapping_links(obj):
        links = []
        for item in obj.context.get("items", []):
            if item.get("kind") == "category":
                url = reverse("admin:mappings_categorymapping_add") + "?" + urlencode(
                    {"connection": obj.record.connection_id, "category_code": item.get("key", "")})
            elif item.get("kind") == "tax":
                url = reverse("admin:mappings_taxmapping_add") + "?" + urlencode(
                    {"connection": obj.record.connection_id, "tax_code": item.get("key", "")})
            else:
                url = reverse("admin:connectors_connection_change", args=[obj.record.connection_id])
            links.append((url, _("Add mapping · %(kind)s %(key)s") % {"kind": word_shown(item.get("kind", "")),
                                                                       "key": item.get("key")}))
        return links

    @display(description=_("Age / SLA"), label={"overdue": "danger", "due": "success", "done": "info"},
             ordering="sla_due_at")
    def sla(self, obj):
        if not obj.is_open:
            return "done", _("resolved")
        hours = int((timezone.now() - obj.created_at).total_seconds() // 3600)
        return ("overdue" if obj.overdue else "due"), (_("%(hours)s h · overdue") if obj.overdue
                                                       else _("%(hours)s h")) % {"hours": hours}

    @display(description=_("Due by"))
    def due_by(self, obj):
        due = timezone.localtime(obj.sla_due_at)
        return format_html('<span dir="ltr">{}</span>{}', f"{due:%Y-%m-%d %H:%M}",
                           format_html(' <span class="text-red-600">· {}</span>', _("overdue")) if obj.overdue else "")

    @display(description=_("Resolved by"))
    def resolved_by_text(self, obj):
        return obj.resolved_by_label or "—"

    @display(description=_("Document"))
    def document_card(self, obj):
        record, doc = obj.record, document_of(obj.record)
        rows = [(_("Connection"), record.connection.name), (_("Document"), record.get_kind_display()),
                (_("Document date"), record.document_date.isoformat() if record.document_date else "—"),
                (_("Amount"), money_html(doc.amount, doc.currency) if doc is not None else "—"),
                (_("Employee"), bidi(record.employee.name if record.employee_id else ""))]
        if doc is not None:
            rows += [(_("Merchant"), bidi(getattr(doc, "merchant", ""))),
                     (_("Description"), bidi(getattr(doc, "description", ""))),
                     (_("Description (Arabic)"), bidi(getattr(doc, "description_ar", "")))]
        if record.expense_id:
            expense_url = reverse("admin:source_expense_change", args=[record.expense_id])
            receipts = list(record.expense.receipts.all())
            rows.append((_("Receipts"), receipt_previews(receipts) if receipts else _("none")))
            rows.append((_("Source expense"), format_html('<a class="text-primary-600 underline" href="{}">{}</a>',
                                                          expense_url, record.expense.expensico_id)))
        body = format_html_join("", '<tr><th class="pe-6 py-1 font-medium align-top" style="text-align: start">{}</th>'
                                    '<td class="py-1">{}</td></tr>', rows)
        # cells-start (admin.css): room after each heading in both directions (Unfold has no pe-6).
        return format_html('<table class="text-sm cells-start"><tbody>{}</tbody></table>', body)
