from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from expensico_sync.core.admin.scoping import OrgScopedAdmin

from ..messages import shown
from .models import GeneratedReport, ReportSchedule
from .services import download_path


@admin.register(ReportSchedule)
class ReportScheduleAdmin(OrgScopedAdmin):
    capability = "exports.run"
    list_display = ("report", "format", "cadence", "day", "organization", "connection", "active", "last_run_on")
    list_select_related = ("organization", "connection")   # the connection may be empty: not joined by default
    list_filter = ("report", "cadence", "active")
    fields = ("organization", "report", "format", "cadence", "day", "connection", "active", "last_run_on")
    readonly_fields = ("last_run_on",)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(GeneratedReport)
class GeneratedReportAdmin(OrgScopedAdmin):
    capability = "exports.run"
    list_display = ("filename", "organization", "status", "created_at", "expires_at", "download", "error_text")
    list_filter = ("status",)
    readonly_fields = ("filename", "schedule", "organization", "status", "error_text", "evidence_pack", "content_type",
                       "sha256", "created_at", "expires_at", "download")
    fields = readonly_fields

    @display(description=_("Error"))
    def error_text(self, obj):
        """Our reason in the viewer's language; an error the build raised, as it was."""
        return shown(obj.error, obj.error_message) or "—"

    @display(description=_("Download"))
    def download(self, obj):
        if obj.status != GeneratedReport.Status.READY:
            return obj.get_status_display()
        return format_html('<a href="{}">{}</a>', download_path(obj), obj.filename)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
