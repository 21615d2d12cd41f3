from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import display

from .models import BackupRun


@admin.register(BackupRun)
class BackupRunAdmin(ModelAdmin):
    """Read-only: runs are written by `manage.py backup`/`restore_drill` and their schedules.
    Whole-installation data, so only superusers see it."""

    list_display = ("started_at", "kind", "outcome", "name", "target", "plain_size", "rows", "finished_at")
    list_filter = ("kind", "status")
    search_fields = ("name", "detail", "sha256")
    readonly_fields = ("kind", "status", "name", "target", "size", "sha256", "row_counts", "detail",
                       "started_at", "finished_at")

    @display(description=_("Status"), label={"ok": "success", "failed": "danger", "running": "info"})
    def outcome(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("Size"))
    def plain_size(self, obj):
        return filesizeformat(obj.size) if obj.size is not None else "—"

    @display(description=_("Rows"))
    def rows(self, obj):
        return f"{sum(obj.row_counts.values()):,}" if obj.row_counts else "—"

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
