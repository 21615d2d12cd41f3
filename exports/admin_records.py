"""Export records read like documents: the list shows amount, date, employee, system and status;
the record page shows what was booked (amount, description, the source expense and its receipts),
the payload sent (or that would be), the attempts, the vendor's copy when verified and a
timeline of what happened. The record is read-only: no Save buttons, and only the actions its
status allows."""

import json

import structlog
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from connectors.base import connector_class, connector_for
from connectors.errors import ConnectorError
from connectors.registry import system_label
from expensico_sync.core.admin.confirm import confirmed_action
from expensico_sync.core.formatting import bidi_html, clipped, money_html, money_text
from expensico_sync.source.receipt_views import receipt_url

from .admin import AttemptInline, ExportRecordAdmin
from .messages import shown, stored_of
from .models import ExportAttempt, ExportRecord
from .reconcile.verify import read_back_by_reference
from .services.actions import record_preview
from .stored_words import attempt_shown, wait_shown
from .transitions import Status

logger = structlog.get_logger(__name__)

SOURCE_LINKS = ("expense", "card_funding", "reimbursement", "statement_line")
# Which detail actions a status allows (the services refuse the others anyway).
LEGAL_ACTIONS = {
    "retry_now": (Status.PENDING, Status.RETRY, Status.OUTCOME_UNKNOWN, Status.NEEDS_REVIEW),
    "cancel_record": (Status.PENDING, Status.RETRY, Status.NEEDS_REVIEW),
    "re_export": (Status.CANCELLED,),
    "vendor_copy": (Status.EXPORTED,),
}


def source_of(record: ExportRecord):
    for name in SOURCE_LINKS:
        if getattr(record, f"{name}_id"):
            return name, getattr(record, name)
    return None, None


def pretty(value) -> str:
    if value in (None, "", {}, []):
        return "—"
    return format_html('<pre class="text-xs" style="white-space: pre-wrap; max-height: 32rem; overflow: auto">{}</pre>',
                       json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str))


# A record not sent yet shows what it would be sent as, built now from the current mappings.
UNSENT = (Status.PENDING, Status.RETRY, Status.NEEDS_REVIEW)


def _would_be(obj, part: str):
    preview = _once(obj, "preview", lambda: _preview_or_none(obj))
    if preview is None:
        return "—"
    if not preview["ok"]:
        why = preview["detail"]
        words = shown(why, stored_of(why)) if why else preview["reason"]
        return format_html("<p>{}</p><p>{}</p>", _("Not sent yet, and it cannot be built now:"),
                           bidi_html(str(words or "—")))
    return format_html("<p class=\"text-font-subtle-light\">{}</p>{}",
                       _("Not sent yet: this is what it would be sent as now, from the current mappings."),
                       pretty(preview[part]))


def _preview_or_none(obj):
    try:
        return record_preview(record=obj)
    except Exception:  # noqa: BLE001 - a page must open even if a preview cannot be built
        logger.warning("admin.record_preview_failed", record=obj.pk, exc_info=True)
        return None


def _once(obj, name: str, build):
    """Unfold renders each read-only field of the page several times (five on this page): the
    tables below are built, and their rows read, once per record."""
    built = obj.__dict__.setdefault("_admin_fields", {})
    if name not in built:
        built[name] = build()
    return built[name]


class ReadableAttemptInline(AttemptInline):
    """Attempts with headings a person reads (not field names)."""

    fields = ("number", "started_at", "outcome", "error_text", "notes_text", "external_id",  # type: ignore[assignment]
              "request_id", "duration_ms")
    readonly_fields = fields  # type: ignore[assignment]
    verbose_name = _("attempt")
    verbose_name_plural = _("Attempts")

    @display(description=_("What the vendor said"))
    def error_text(self, obj: ExportAttempt):
        # The vendor's words as it wrote them; ours (e.g. "reconciled") in the reader's language.
        parts = [attempt_shown(obj.error_message or ""), f"({obj.error_code})" if obj.error_code else ""]
        text = " ".join(p for p in parts if p).strip()
        return format_html('<span dir="auto">{}</span>', text) if text else "—"

    @display(description=_("Notes"))
    def notes_text(self, obj: ExportAttempt):
        """Informational notes left with the attempt (e.g. re-dated into the next open period)."""
        if not obj.notes:
            return "—"
        return format_html_join("", '<div dir="auto">{}</div>', ((attempt_shown(str(note)),) for note in obj.notes))


admin.site.unregister(ExportRecord)


@admin.register(ExportRecord)
class ExportRecordDocumentAdmin(ExportRecordAdmin):
    # Fits 1440 px: the kind is a filter (a reversal's reference ends in -R) and the attempts are on the
    # record's page; long names are clipped.
    list_display = ("reference", "amount_text", "document_date", "employee_text", "system_text",  # type: ignore[assignment]
                    "status_badge", "warnings_badge", "external_link", "vendor_document_number")
    list_select_related = ("connection", "employee", "expense", "card_funding",  # type: ignore[assignment]
                           "reimbursement", "statement_line")
    inlines = [ReadableAttemptInline]
    actions_detail = [*ExportRecordAdmin.actions_detail, "vendor_copy"]
    fieldsets = (  # type: ignore[assignment]
        (_("Document"), {"fields": ("reference", "kind", "status_text", "wait_reason_text", "amount_text", "description_text",
                                 "document_date", "employee", "system_text", "source_link", "receipt_links",
                                 "external_link", "vendor_document_number", "reverses", "reversal_link", "sync_run")}),
        (_("Sent to the accounting system"), {"fields": ("payload_text", "entry_text", "mapping_version",
                                                      "idempotency_key", "attempts", "next_attempt_at",
                                                      "last_error_text", "warnings_text")}),
        (_("The vendor's copy"), {"fields": ("verified_text",)}),
        (_("History"), {"fields": ("status_history", "timeline")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return [*(f.name for f in ExportRecord._meta.concrete_fields),
                "status_text", "wait_reason_text", "last_error_text", "warnings_text", "amount_text", "description_text", "system_text", "source_link", "receipt_links",
                "external_link", "payload_text", "entry_text", "verified_text", "status_history", "timeline",
                "reversal_link"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.list_select_related)

    # Read-only page: no Save buttons, and only the actions the status allows -------------
    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False,
                       show_save_as_new=False, show_delete_link=False)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_actions_detail(self, request, object_id):
        actions = super().get_actions_detail(request, object_id)
        status = self.get_queryset(request).filter(pk=object_id).values_list("status", flat=True).first()
        return [a for a in actions
                if not any(a.action_name.endswith(name) and status not in legal for name, legal in LEGAL_ACTIONS.items())]

    @confirmed_action(description=_("Vendor's copy"), icon="cloud_download", submit=_("Read it now"),
                      what=_("The accounting system is asked for its copy of this document (one read; nothing is "
                           "changed there) and it is shown next to what we sent."))
    def vendor_copy(self, request, object_id):
        record = self.get_queryset(request).get(pk=object_id)
        back = redirect("admin:exports_exportrecord_change", object_id)
        connector = connector_for(record.connection)
        if not connector.reads_back:
            messages.error(request, _("%(name)s's system cannot be read back.") % {"name": record.connection.name})
            return back
        try:
            found, _missing = read_back_by_reference(connector, [record.reference])
        except ConnectorError as exc:
            messages.error(request, _("Reading the vendor's copy failed: %(error)s") % {"error": exc.message})
            return back
        docs = found.get(record.reference) or found.get(connector.vendor_reference(record.reference)) or []
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": record,
                   "title": _("The vendor's copy of %(reference)s") % {"reference": record.reference}, "back_url": back.url,
                   "documents": [{"doc": d, "raw": pretty(d.raw), "lines": d.lines,
                                  "amount": money_text(d.amount, d.currency) or "—"} for d in docs],
                   "sent": pretty(record.payload_preview)}
        return TemplateResponse(request, "exports/admin/vendor_copy.html", context)

    # Columns and fields ---------------------------------------------------------------------
    @display(description=_("Status"))
    def status_text(self, obj):
        return format_html('<strong data-test="record-status">{}</strong>', obj.get_status_display())

    @display(description=_("Wait reason"))
    def wait_reason_text(self, obj):
        """Why a waiting record is not sent yet, in the reader's language (stored in English)."""
        return format_html('<span dir="auto" data-test="wait-reason">{}</span>', wait_shown(obj.wait_reason)) \
            if obj.wait_reason else "—"

    @display(description=_("Last error"))
    def last_error_text(self, obj):
        """Our own text in the viewer's language (exports/messages.py); the vendor's words as it wrote them."""
        return format_html('<div dir="auto">{}</div>', shown(obj.last_error, obj.last_error_message)) \
            if obj.last_error else "—"

    @display(description=_("Vendor warnings"))
    def warnings_text(self, obj):
        if not obj.warnings:
            return _("none")
        return format_html_join("", "<div>{}</div>", ((w.get("message", w) if isinstance(w, dict) else w,)
                                                       for w in obj.warnings))

    @display(description=_("Amount"))
    def amount_text(self, obj):
        _kind, doc = source_of(obj)
        return money_html(getattr(doc, "amount", None), getattr(doc, "currency", ""))

    @display(description=_("Employee"), ordering="employee__name")
    def employee_text(self, obj):
        return clipped(str(obj.employee), width="8rem") if obj.employee_id else "—"

    @display(description=_("Description"))
    def description_text(self, obj):
        _kind, doc = source_of(obj)
        if doc is None:
            return "—"
        english, arabic = getattr(doc, "description", ""), getattr(doc, "description_ar", "")
        merchant = getattr(doc, "merchant", "")
        # bidi_html: the date in "مكافأة سائق - 2026-01-03" read 03-01-2026 in a plain dir="auto" block.
        head = " · ".join(p for p in (merchant, english) if p) or "—"
        return format_html('<div dir="auto">{}</div>{}', bidi_html(head),
                           format_html('<div dir="auto" lang="ar">{}</div>', bidi_html(arabic)) if arabic else "")

    @display(description=_("System"), ordering="connection__name")
    def system_text(self, obj):
        return system_html(obj.connection.name, system_label(obj.connection.system))

    @display(description=_("Source document"))
    def source_link(self, obj):
        name, doc = source_of(obj)
        if doc is None:
            return "—"
        try:
            url = reverse(f"admin:source_{doc._meta.model_name}_change", args=[doc.pk])
        except NoReverseMatch:
            return str(doc)
        return format_html('<a class="text-primary-600 underline" href="{}">{} {}</a>', url,
                           doc._meta.verbose_name.capitalize(), obj.source_id)

    @display(description=_("Reversal link"))
    def reversal_link(self, obj):
        return _once(obj, "reversal", lambda: super(ExportRecordDocumentAdmin, self).reversal_link(obj))

    @display(description=_("Receipts"))
    def receipt_links(self, obj):
        if not obj.expense_id:
            return "—"
        receipts = _once(obj, "receipts", lambda: list(obj.expense.receipts.all()))
        if not receipts:
            return _("none attached")
        return format_html_join(" · ", '<a class="text-primary-600 underline" href="{}" target="_blank" '
                                'rel="noopener">{}</a>{}',
                                ((receipt_url(r), r.filename, "" if r.file else " " + _("(not fetched yet)"))
                                 for r in receipts))

    @display(description=_("External id"), ordering="external_id")
    def external_link(self, obj):
        """A link to the vendor's page of the document where the vendor has one (connectors'
        `document_url`); otherwise the id as text, its title saying the system publishes no link."""
        if not obj.external_id:
            return "—"
        system = system_label(obj.connection.system)
        try:
            url = connector_class(obj.connection.system).document_url(obj.connection, obj.external_id,
                                                                      reference=obj.reference)
        except LookupError:
            url = None
        if not url:
            note = _("%(system)s publishes no link to this document: look it up there by this id.")
            return format_html('<span title="{}">{}</span>', note % {"system": system}, obj.external_id)
        return format_html('<a class="text-primary-600 underline" href="{}" target="_blank" rel="noopener" '
                           'title="{}">{}</a>', url, _("Open in %(system)s") % {"system": system}, obj.external_id)

    @display(description=_("Payload (sent, or as it would be sent)"))
    def payload_text(self, obj):
        if obj.payload_preview is not None or obj.status not in UNSENT:
            return pretty(obj.payload_preview)
        return _would_be(obj, "payload")

    @display(description=_("Accounting entry"))
    def entry_text(self, obj):
        if obj.entry_preview is not None or obj.status not in UNSENT:
            return pretty(obj.entry_preview)
        return _would_be(obj, "entry")

    @display(description=_("Verified"))
    def verified_text(self, obj):
        if not obj.verified_at:
            return _("Not verified yet: the vendor's copy is read back after export.")
        return format_html(_("Read back {} · content hash <code>{}</code>"), obj.verified_at.strftime("%Y-%m-%d %H:%M"),
                           obj.vendor_hash or "—")

    @display(description=_("Status changes"))
    def status_history(self, obj):
        """The stored log (exports.status_log): who moved the record, when, from what to what and why.
        A worker's claim (waiting → in progress) is not logged: the attempt that follows says it."""
        labels = dict(Status.choices)
        changes = _once(obj, "status_changes", lambda: list(obj.status_changes.order_by("at", "id")))
        ours = _once(obj, "messages", lambda: messages_of(obj))
        rows = [(c.at.strftime("%Y-%m-%d %H:%M:%S"), labels.get(c.from_status, c.from_status),
                 labels.get(c.to_status, c.to_status), c.actor or _("system"),
                 why_shown(c, ours) or "—") for c in changes]
        if not rows:
            return _("No status change since it was created.")
        return format_html(
            # cells-start and flow-arrow (admin.css): start-aligned with room on the end side, and the
            # arrow pointing the way the page reads, in Arabic too (Unfold's CSS has no logical classes).
            '<table class="text-sm cells-start" data-test="status-history"><thead><tr><th>{}</th>'
            '<th>{}</th><th>{}</th><th>{}'
            '</th></tr></thead><tbody>{}</tbody></table>', _("When"), _("From → to"), _("Who"), _("Why"),
            format_html_join("", '<tr><td class="whitespace-nowrap">{}</td><td class="whitespace-nowrap">'
                             '{} <span class="flow-arrow">→</span> <strong>{}</strong></td><td>{}</td><td dir="auto" '
                             'style="overflow-wrap: anywhere">{}</td></tr>', rows))

    @display(description=_("What happened"))
    def timeline(self, obj):
        return format_html('<ol class="text-sm flex flex-col gap-1">{}</ol>', format_html_join(
            "", '<li><span class="text-font-subtle-light">{}</span> · {}</li>',
            _once(obj, "timeline", lambda: record_timeline(obj))))


def why_shown(change, ours: dict[str, dict]) -> str:
    """A status change's why in the reader's language: by its own message code; a row written before
    codes were kept, by the record's texts of ours or as a wait reason; else as stored."""
    if change.why_message:
        return shown(change.why, change.why_message)
    if change.why in ours:
        return shown(change.why, ours[change.why])
    return wait_shown(change.why)


def messages_of(record: ExportRecord) -> dict[str, dict]:
    """The record's texts of ours with their message codes (its review items' details and its last
    error), by English text: a status change stores the same text as its "why"."""
    known = {item.detail: item.detail_message for item in record.review_items.all() if item.detail_message}
    if record.last_error_message:
        known[record.last_error] = record.last_error_message
    return known


def system_html(name: str, label: str) -> SafeString | str:
    """The connection's name, and the system under it only when the name does not already say it:
    "Wafeq (sandbox)", not "Wafeq · Wafeq (sandbox)"; "Moon books" over a small "Moon ERP"."""
    if not name or label.casefold() in name.casefold():
        return clipped(name or label, width="9rem")
    return format_html('{}<span class="cell-clip text-xs text-font-subtle-light" style="max-width: 9rem">{}</span>',
                       clipped(name, width="9rem"), label)


def record_timeline(record: ExportRecord) -> list[tuple[str, str]]:
    """The record's status changes, from what is stored: creation, each attempt's outcome, review
    items opened and resolved, export, verification and the current status."""
    # (when, order among events of the same instant, what)
    events = [(record.created_at, 0, str(_("created: waiting to be sent"))
               + (" " + _("(looked up first)") if record.needs_reconcile else ""))]
    for attempt in record.export_attempts.order_by("number"):
        text = _("attempt %(number)s: %(outcome)s") % {"number": attempt.number,
                                                        "outcome": attempt.get_outcome_display().lower()}
        if attempt.error_message:
            text += f" ({attempt_shown(attempt.error_message)[:120]})"
        events.append((attempt.finished_at, 1, text))
    for item in record.review_items.order_by("created_at"):
        events.append((item.created_at, 2, _("held for review: %(reason)s") % {"reason": item.get_reason_display().lower()}))
        if item.resolved_at:
            resolution = item.get_resolution_display().lower()
            events.append((item.resolved_at, 3, _("review resolved: %(resolution)s by %(who)s") % {
                "resolution": resolution, "who": item.resolved_by_label} if item.resolved_by_label
                else _("review resolved: %(resolution)s") % {"resolution": resolution}))
    if record.exported_at:
        events.append((record.exported_at, 4, _("exported as %(id)s") % {"id": record.external_id or "—"}))
    if record.verified_at:
        events.append((record.verified_at, 5, str(_("verified against the vendor's copy"))))
    events.sort(key=lambda e: (e[0], e[1]))
    rows = [(at.strftime("%Y-%m-%d %H:%M:%S"), text) for at, _, text in events]
    rows.append((str(_("now")), _("status: %(status)s") % {"status": record.get_status_display().lower()}
                 + (f" ({wait_shown(record.wait_reason)})" if record.wait_reason else "")))
    return rows
