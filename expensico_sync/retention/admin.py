from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.decorators import display

from expensico_sync.core.admin.scoping import OrgScopedAdmin

from .models import RetentionSettings
from .registry import policies
from .services import plan


@admin.register(RetentionSettings)
class RetentionSettingsAdmin(OrgScopedAdmin, SimpleHistoryAdmin):
    """Owners set how long each kind of data is kept and put the organisation on legal hold; the
    page shows what the next run would delete or anonymise."""

    capability = "organization.manage"
    org_path = "organization"
    list_display = ("organization", "legal_hold", "periods", "updated_at")
    list_filter = ("legal_hold",)
    readonly_fields = ("next_run",)
    fields = ("organization", "legal_hold", "legal_hold_reason", "months", "next_run")

    @display(description=_("Periods (months)"))
    def periods(self, obj):
        return ", ".join(f"{p.key} {obj.months_for(p)}" for p in policies())

    @display(description=_("The next run would"))
    def next_run(self, obj):
        if not obj.pk:
            return _("Save first.")
        rows = ((s.policy.label, s.policy.action, s.months, f"{s.rows:,}", s.policy.keeps) for s in plan(obj.organization))
        table = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                                 ((label, action, _("%(n)s months") % {"n": months}, due, keeps)
                                  for label, action, months, due, keeps in rows))
        hold = format_html("<p><strong>{}</strong></p>", _("Legal hold: nothing will change.")) if obj.legal_hold else ""
        return format_html("{}<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>", hold,
                           _("policy"), _("action"), _("keep"), _("rows due"), _("what stays"), table)
