"""Admin screens: the outbox, the review queue (a work queue), sync runs and the pilot scope.

Nothing here edits a status directly: every button calls a service, and the services go
through the transition table."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ExportMixin
from unfold.admin import TabularInline
from unfold.contrib.filters.admin import (
    ChoicesDropdownFilter,
    RangeDateFilter,
    RangeDateTimeFilter,
    RelatedDropdownFilter,
)
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import action, display

from expensico_sync.core.admin.confirm import confirmed_action
from expensico_sync.core.admin.scoping import OrgScopedAdmin
from expensico_sync.core.selectors import organizations_with_capability

from .close.resources import ExportRecordResource
from .errors import Refused
from .messages import said, shown, stored_of
from .models import ExportAttempt, ExportRecord, PilotScope, SyncRun
from .refusals import refusal_shown
from .reversal_link import reversal_link
from .services import actions as export_services
from .services.sync import sync_run_create, sync_run_live
from .transitions import Status

STATUS_LABELS = {
    Status.EXPORTED: "success", Status.NEEDS_REVIEW: "danger", Status.OUTCOME_UNKNOWN: "warning",
    Status.RETRY: "warning", Status.IN_PROGRESS: "info", Status.PENDING: "info",
}
REFUSALS = Refused


class AttemptInline(TabularInline):
    model = ExportAttempt
    extra = 0
    can_delete = False
    fields = ("number", "started_at", "outcome", "error_class", "error_code", "error_message", "request_id",
              "external_id", "warnings", "notes", "duration_ms")
    readonly_fields = fields
    tab = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class VendorWarningFilter(admin.SimpleListFilter):
    title = _("vendor warnings")
    parameter_name = "vendor_warnings"

    def lookups(self, request, model_admin):
        return (("yes", _("Exported with warnings")), ("no", _("Without warnings")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(warnings=[])
        if self.value() == "no":
            return queryset.filter(warnings=[])
        return queryset


def _run(request, fn, ok_message):
    try:
        fn()
    except REFUSALS as exc:
        messages.error(request, refusal_shown(exc))
        return False
    messages.success(request, ok_message)
    return True


@admin.register(ExportRecord)
class ExportRecordAdmin(ExportMixin, OrgScopedAdmin):
    capability = "exports.run"
    resource_classes = [ExportRecordResource]
    export_form_class = ExportForm
    list_display = ("reference", "kind", "status_badge", "warnings_badge", "connection", "employee", "document_date",
                    "attempts", "external_id", "vendor_document_number", "next_attempt_at", "wait_reason")
    list_filter = (("status", ChoicesDropdownFilter), ("kind", ChoicesDropdownFilter),
                   ("connection", RelatedDropdownFilter), ("document_date", RangeDateFilter), "needs_reconcile",
                   VendorWarningFilter, ("created_at", RangeDateTimeFilter))
    list_filter_submit = True
    # Prefix or exact matches on indexed columns (upper-case pattern indexes): `icontains` on five
    # columns, one through a join, read the whole table.
    search_fields = ("^reference", "^external_id", "=source_id", "^vendor_document_number")
    sortable_by = ("reference", "status_badge", "document_date", "external_id", "next_attempt_at")
    list_select_related = ("connection", "employee")
    inlines = [AttemptInline]
    actions = ["retry_selected", "cancel_selected"]
    actions_list = ["retry_failed_exports"]
    actions_detail = ["retry_now", "cancel_record", "re_export"]
    # No date_hierarchy: its year links are a DISTINCT DATE_TRUNC over every record; the created-at
    # range filter does the same job through the index.
    fieldsets = (
        (None, {"fields": ("reference", "kind", "status", "wait_reason", "connection", "organization", "employee",
                           "document_date", "source_id", "source_version", "reverses", "sync_run")}),
        (_("Outcome"), {"fields": ("external_id", "vendor_document_number", "reversal_link", "attempts", "next_attempt_at",
                                "needs_reconcile", "last_error", "warnings", "exported_at", "idempotency_key")}),
        (_("Entry"), {"fields": ("mapping_version", "entry_preview", "payload_preview")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in ExportRecord._meta.concrete_fields] + ["reversal_link"]

    @admin.display(description=_("Reversal link"))
    def reversal_link(self, obj):
        link = reversal_link(obj)
        return shown(link, stored_of(link)) if link else "—"

    def has_add_permission(self, request, *args):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the outbox is history: cancel instead

    @display(description=_("Status"), label=STATUS_LABELS, ordering="status")
    def status_badge(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("Vendor warnings"), label={"warned": "warning"})
    def warnings_badge(self, obj):
        if not obj.warnings:
            return None
        return "warned", ngettext("%(count)s warning", "%(count)s warnings", len(obj.warnings)) % {
            "count": len(obj.warnings)}

    @confirmed_action(description=_("Retry now"), icon="replay",
                      what=_("The record is queued to be sent to the accounting system now, whatever its backoff."))
    def retry_now(self, request, object_id):
        record = self.get_queryset(request).get(pk=object_id)
        _run(request, lambda: export_services.record_retry_now(record=record, by=request.user), _("Queued to run now."))
        return redirect("admin:exports_exportrecord_change", object_id)

    @confirmed_action(description=_("Cancel"), icon="block", submit=_("Cancel the record"),
                      what=_("The record is cancelled and will not be exported. Only a waiting record can be."))
    def cancel_record(self, request, object_id):
        record = self.get_queryset(request).get(pk=object_id)
        _run(request, lambda: export_services.record_cancel(record=record, reason=said("cancelled_by", who=request.user),
                                                            by=request.user), _("Cancelled."))
        return redirect("admin:exports_exportrecord_change", object_id)

    @confirmed_action(description=_("Re-export"), icon="restart_alt",
                      what=_("The document is queued to be exported again to the accounting system."))
    def re_export(self, request, object_id):
        record = self.get_queryset(request).get(pk=object_id)
        _run(request, lambda: export_services.record_reexport(record=record, by=request.user),
             _("Queued for export again."))
        return redirect("admin:exports_exportrecord_change", object_id)

    def _run_organizations(self, request):
        return organizations_with_capability(request.user, self.capability).order_by("name")

    def _failed_exports_text(self, request, object_id=None) -> str:
        counts = [(org.name, export_services.failed_exports_count(organization_id=org.pk))
                  for org in self._run_organizations(request)]
        total = sum(n for _, n in counts)
        each = "; ".join(f"{name}: {n}" for name, n in counts)
        return ngettext("%(count)s failed export (%(each)s) will be sent to the accounting system again now: "
                        "records parked for a reason a retry may fix, and those waiting to retry.",
                        "%(count)s failed exports (%(each)s) will be sent to the accounting system again now: "
                        "records parked for a reason a retry may fix, and those waiting to retry.",
                        total) % {"count": total, "each": each}

    @confirmed_action(description=_("Retry failed exports"), icon="replay", what=_failed_exports_text,
                      submit=_("Retry them now"))
    def retry_failed_exports(self, request):
        done = sum(export_services.retry_failed_exports(organization_id=org.pk, by=request.user)
                   for org in self._run_organizations(request))
        messages.success(request, ngettext("%(count)s failed export queued to be sent again.",
                                                   "%(count)s failed exports queued to be sent again.", done) % {"count": done})
        return redirect("admin:exports_exportrecord_changelist")

    @action(description=_("Retry selected now"), icon="replay", permissions=["change"])
    def retry_selected(self, request, queryset):
        done = sum(_quiet(lambda r=r: export_services.record_retry_now(record=r, by=request.user)) for r in queryset)
        total = queryset.count()
        messages.info(request, ngettext("%(done)s of %(total)s record queued.", "%(done)s of %(total)s records queued.",
                                        total) % {"done": done, "total": total})

    @action(description=_("Cancel selected"), icon="block", permissions=["change"])
    def cancel_selected(self, request, queryset):
        done = sum(_quiet(lambda r=r: export_services.record_cancel(record=r, by=request.user)) for r in queryset)
        total = queryset.count()
        messages.info(request, ngettext("%(done)s of %(total)s record cancelled (only waiting ones can be).",
                                        "%(done)s of %(total)s records cancelled (only waiting ones can be).",
                                        total) % {"done": done, "total": total})


def _quiet(fn) -> int:
    try:
        fn()
        return 1
    except REFUSALS:
        return 0


class SyncRunForm(forms.ModelForm):
    class Meta:
        model = SyncRun
        fields = ("connection", "date_from", "date_to")

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("Must not be before the start date."))
        return data


PROGRESS_HTML = """
<div id="sync-run-{id}" data-url="{url}" class="flex flex-col gap-2 min-w-80">
  <div class="h-3 w-full rounded bg-base-200 dark:bg-base-700 overflow-hidden">
    <div class="h-3 bg-primary-600" data-bar style="width:{pct}%"></div></div>
  <div class="text-sm" data-text>{text}</div>
</div>
<script>(function(){{
  var box=document.getElementById("sync-run-{id}"); if(!box||"{live}"!=="1")return;
  function tick(){{fetch(box.dataset.url,{{credentials:"same-origin"}}).then(function(r){{return r.json()}}).then(function(d){{
    box.querySelector("[data-bar]").style.width=d.progress+"%";
    box.querySelector("[data-text]").textContent=d.status+" · "+d.progress+"% · found "+d.found+", already there "+
      d.already_there+", exported "+d.exported+", held "+d.held+", failed "+d.failed;
    if(d.status!=="finished"&&d.status!=="failed")setTimeout(tick,2000);}});}}
  setTimeout(tick,2000);}})();</script>
"""


@admin.register(SyncRun)
class SyncRunAdmin(OrgScopedAdmin):
    capability = "exports.run"
    form = SyncRunForm
    list_display = ("__str__", "connection", "status_badge", "progress_bar", "found", "already_there", "exported",
                    "held", "failed", "created_at")
    list_filter = (("status", ChoicesDropdownFilter), ("connection", RelatedDropdownFilter))
    readonly_fields = ("progress_bar", "status", "found", "already_there", "exported", "held", "failed", "error",
                       "pull_sync", "started_at", "finished_at", "created_by")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("connection", "date_from", "date_to")
        return ("connection", "date_from", "date_to", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (("connection", "date_from", "date_to") if obj else ())

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        run = sync_run_create(connection=form.cleaned_data["connection"], date_from=form.cleaned_data["date_from"],
                              date_to=form.cleaned_data["date_to"], user=request.user)
        obj.pk = run.pk
        messages.success(request, _("Sync started: progress updates on its page."))

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        for run in changelist.result_list:
            sync_run_live(sync_run=run)  # counters are live without waiting for the sweeper, and not written
        return changelist

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        return sync_run_live(sync_run=obj) if obj else obj

    @display(description=_("Status"), label={"finished": "success", "failed": "danger", "exporting": "info",
                                          "pulling": "info", "queued": "warning"})
    def status_badge(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("Progress"))
    def progress_bar(self, obj):
        if not obj.pk:
            return "—"
        live = "1" if obj.status not in (SyncRun.Status.FINISHED, SyncRun.Status.FAILED) else "0"
        text = _("%(status)s · %(progress)s%% · found %(found)s, already there %(already_there)s, exported "
                 "%(exported)s, held %(held)s, failed %(failed)s") % {
            "status": obj.get_status_display(), "progress": obj.progress, "found": obj.found,
            "already_there": obj.already_there, "exported": obj.exported, "held": obj.held, "failed": obj.failed}
        return format_html(PROGRESS_HTML, id=obj.pk, url=reverse("sync-run-detail", args=[obj.pk]),
                           pct=obj.progress, text=text, live=live)


@admin.register(PilotScope)
class PilotScopeAdmin(OrgScopedAdmin):
    capability = "organization.manage"
    list_display = ("organization", "employee_count", "category_count", "updated_at")
    filter_horizontal = ("employees", "categories")

    @display(description=_("Employees"))
    def employee_count(self, obj):
        return obj.employees.count()

    @display(description=_("Categories"))
    def category_count(self, obj):
        return obj.categories.count()

from . import (  # noqa: E402  (the screens below register on import)
    admin_coding,  # noqa: F401  coding rules, hold policy and approvals register their screens
    admin_review,  # noqa: F401  the review queue
)
from .anomalies import admin as _anomalies_admin  # noqa: E402, F401  (anomaly flags, detector settings)
from .close import admin as _close_admin  # noqa: E402, F401  (the Close section registers its admins)

# Reconciliation screens (exports/reconcile/admin.py) register with the same site.
from .reconcile import admin as _reconcile_admin  # noqa: E402, F401
from .reports import admin as _reports_admin  # noqa: E402, F401  (scheduled reports)
