from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin
from unfold.decorators import display

from expensico_sync.core.admin.scoping import OrgScopedAdmin

from .models import RetentionSettings
from .registry import policies
from .services import plan

PREVIEW_LIMIT = 10_000      # rows counted per policy on the settings page; the run itself counts all


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
    list_select_related = ("organization",)

    @display(description=_("Periods (months)"))
    def periods(self, obj):
        return ", ".join(f"{p.key} {obj.months_for(p)}" for p in policies())

    @display(description=_("The next run would"))
    def next_run(self, obj):
        """Rendered several times per page by the admin's read-only field: the plan is computed once
        per object, from the settings already loaded, and each count stops at PREVIEW_LIMIT rows."""
        if not obj.pk:
            return _("Save first.")
        if "_next_run" not in obj.__dict__:
            obj.__dict__["_next_run"] = self._next_run(obj)
        return obj.__dict__["_next_run"]

    def _next_run(self, obj):
        steps = plan(obj.organization, chosen=obj, count_limit=PREVIEW_LIMIT + 1)
        rows = ((s.policy.label, s.policy.action, ngettext("%(n)s month", "%(n)s months", s.months) % {"n": s.months},
                 _("more than %(n)s") % {"n": f"{PREVIEW_LIMIT:,}"} if s.rows > PREVIEW_LIMIT else f"{s.rows:,}",
                 s.policy.keeps)
                for s in steps)
        table = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        hold = format_html("<p><strong>{}</strong></p>", _("Legal hold: nothing will change.")) if obj.legal_hold else ""
        return format_html("{}<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>", hold,
                           _("policy"), _("action"), _("keep"), _("rows due"), _("what stays"), table)
