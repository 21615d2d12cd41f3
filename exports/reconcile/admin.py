"""Admin: reconciliations (run a month, rows, differences with drill-downs) and the differences
list where each one is explained with a note. Runs and explanations go through the services."""

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.decorators import display

from expensico_sync.core.admin.scoping import OrgScopedAdmin
from expensico_sync.core.formatting import bidi, money_html

from ..messages import shown
from ..refusals import refusal_shown
from .links import difference_links
from .models import Reconciliation, ReconciliationDifference
from .run import ReconcileError, cost_estimate, difference_explain, reconciliation_create
from .selectors import difference_counts, with_difference_counts
from .serializers import PERIOD


class ReconciliationForm(forms.ModelForm):
    month = forms.CharField(label=_("Month"), widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
                            help_text=_("The month to reconcile (YYYY-MM)"))
    confirm_cost = forms.BooleanField(
        required=False, label=_("Confirm the vendor request cost"),
        help_text=_("Needed where the vendor bills read-back requests; the cost is shown when it applies."))

    class Meta:
        model = Reconciliation
        fields = ("connection",)

    def clean_month(self):
        match = PERIOD.match(self.cleaned_data["month"].strip())
        if not match:
            raise forms.ValidationError(_("Enter a month as YYYY-MM."))
        return date(int(match[1]), int(match[2]), 1)

    def clean(self):
        data = super().clean()
        connection, period = data.get("connection"), data.get("month")
        if connection and period:
            estimate = cost_estimate(connection=connection, period=period)
            if not estimate["reads_back"]:
                self.add_error("connection", _("This connection cannot read back its vendor's ledger."))
            elif estimate["needs_confirmation"] and not data.get("confirm_cost"):
                self.add_error("confirm_cost", _(
                    "Reading back %(documents)s documents costs about %(requests_estimate)s vendor requests of a "
                    "monthly budget of %(request_budget)s. Tick to confirm.") % estimate)
        return data


ROWS_HTML = ("<tr><td class='px-3 py-1 whitespace-nowrap'>{}</td><td class='px-3 py-1 font-mono whitespace-nowrap'>{}</td><td class='px-3 py-1'>{}</td>"
             "<td class='px-3 py-1 text-right font-mono'>{}</td><td class='px-3 py-1 text-right font-mono'>{}</td>"
             "<td class='px-3 py-1 text-right font-mono'>{}</td><td class='px-3 py-1 text-right font-mono {}'>{}</td></tr>")
DIFFS_HTML = ("<tr><td class='px-3 py-1 whitespace-nowrap'>{}</td><td class='px-3 py-1 font-mono whitespace-nowrap'>{}</td><td class='px-3 py-1'>{}</td>"
              "<td class='px-3 py-1 text-right font-mono'>{}</td><td class='px-3 py-1 text-right font-mono'>{}</td>"
              "<td class='px-3 py-1' style='min-width:14rem'>{}</td><td class='px-3 py-1' style='min-width:12rem'>{}</td>"
              "<td class='px-3 py-1 whitespace-nowrap'>{}</td></tr>")
DIFFERENCES_SHOWN = 100
HEAD = "<tr>" + "".join("<th class='px-3 py-1 text-left'>{}</th>" for _ in range(8)) + "</tr>"


def _money(row, name):
    """An amount of a row or difference in its currency's decimals, with thousands separators."""
    return money_html(row.minor(name), row.currency)


def _once(obj, name: str, build):
    """The page renders a read-only field's value more than once (Unfold asks for it on each
    pass over the fieldset): each table is built, and its rows queried, once per object."""
    built = obj.__dict__.setdefault("_admin_tables", {})
    if name not in built:
        built[name] = build()
    return built[name]


def _links(difference):
    return format_html_join(" · ", "<a class='text-primary-600 underline' href='{}'>{}</a>",
                            ((url, label) for label, url in difference_links(difference)))


@admin.register(Reconciliation)
class ReconciliationAdmin(OrgScopedAdmin):
    capability = "exports.run"
    form = ReconciliationForm
    list_display = ("__str__", "connection", "period_label", "status_badge", "differences_summary",
                    "requests_used", "created_by_label", "finished_at")
    list_filter = (("status", ChoicesDropdownFilter), ("connection", RelatedDropdownFilter), "period")
    readonly_fields = ("connection", "period_label", "status", "requests_estimate", "requests_used", "error",
                       "created_by_label", "created_at", "finished_at", "rows_table", "differences_table")

    def get_queryset(self, request):
        return with_difference_counts(super().get_queryset(request))

    def get_fields(self, request, obj=None):
        return ("connection", "month", "confirm_cost") if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            run = reconciliation_create(connection=form.cleaned_data["connection"], period=form.cleaned_data["month"],
                                        user=request.user, confirm_cost=form.cleaned_data["confirm_cost"])
        except ReconcileError as exc:
            messages.error(request, refusal_shown(exc))
            return
        obj.pk, obj.period, obj.status = run.pk, run.period, run.status
        messages.success(request, _("Reconciliation started: its rows and differences appear on its page."))

    @display(description=_("Month"), ordering="period")
    def period_label(self, obj):
        return obj.period.strftime("%Y-%m") if obj.period else "—"

    @display(description=_("Status"), label={"finished": "success", "failed": "danger", "running": "info",
                                          "queued": "warning"})
    def status_badge(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("Differences"))
    def differences_summary(self, obj):
        total, explained = (obj.difference_count, obj.explained_count) if hasattr(obj, "difference_count") \
            else difference_counts(obj)
        url = reverse("admin:exports_reconciliationdifference_changelist") + f"?reconciliation__id__exact={obj.pk}"
        return format_html("<a class='underline' href='{}'>{}</a>", url,
                           _("%(total)s · %(explained)s explained") % {"total": total, "explained": explained})

    @display(description=_("Rows (net debit − credit per account)"))
    def rows_table(self, obj):
        return _once(obj, "rows", lambda: self._rows_table(obj))

    def _rows_table(self, obj):
        rows = format_html_join("", ROWS_HTML, (
            (r.get_account_kind_display(), r.account, r.currency, _money(r, "expensico"), _money(r, "booked"),
             _money(r, "vendor"), "text-red-600 font-semibold" if r.difference else "", _money(r, "difference"))
            for r in obj.rows.all()))
        head = format_html(HEAD, _("Account"), _("Id"), _("Currency"), "Expensico", _("Booked"), _("Vendor"),
                           _("Difference"), "")
        return format_html("<table class='w-full text-sm'>{}{}</table>", head, rows)

    @display(description=_("Differences, document by document"))
    def differences_table(self, obj):
        return _once(obj, "differences", lambda: self._differences_table(obj))

    def _differences_table(self, obj):
        # A run can hold thousands: the page shows the first ones, the differences list has them all.
        diffs = list(obj.differences.select_related("record").order_by("kind", "id")[:DIFFERENCES_SHOWN + 1])
        more = ""
        if len(diffs) > DIFFERENCES_SHOWN:
            diffs = diffs[:DIFFERENCES_SHOWN]
            total = obj.difference_count if hasattr(obj, "difference_count") else difference_counts(obj)[0]
            url = reverse("admin:exports_reconciliationdifference_changelist") + f"?reconciliation__id__exact={obj.pk}"
            more = format_html("<p class='mt-2'>{} <a class='text-primary-600 underline' href='{}'>{}</a></p>",
                               ngettext("The first %(shown)s of %(total)s difference.",
                                        "The first %(shown)s of %(total)s differences.", total) % {
                                   "shown": DIFFERENCES_SHOWN, "total": total},
                               url, _("All differences →"))
        body = format_html_join("", DIFFS_HTML, (
            (d.get_kind_display(), d.reference or d.source_id or "—", d.external_id or "—",
             _money(d, "expected"), _money(d, "actual"), bidi(shown(d.detail, d.detail_message)), _links(d),
             format_html("<a class='underline' href='{}'>{}</a>",
                         reverse("admin:exports_reconciliationdifference_change", args=[d.pk]),
                         _("explained by %(who)s: %(note)s") % {"who": d.explained_by_label, "note": d.explanation}
                         if d.explained else _("explain…")))
            for d in diffs))
        head = format_html(HEAD, _("Kind"), _("Reference"), _("Vendor id"), _("Ours"), _("Vendor"), _("What"),
                           _("Drill down"), _("Note"))
        return format_html("<table class='w-full text-sm'>{}{}</table>{}", head, body, more) if diffs else _("No differences.")


class ExplainForm(forms.ModelForm):
    class Meta:
        model = ReconciliationDifference
        fields = ("explanation",)

    def clean_explanation(self):
        note = (self.cleaned_data.get("explanation") or "").strip()
        if not note:
            raise forms.ValidationError(_("An explanation needs a note."))
        return note


class ExplainedFilter(admin.SimpleListFilter):
    title = _("explained")
    parameter_name = "explained"

    def lookups(self, request, model_admin):
        return (("yes", _("Explained")), ("no", _("Not explained")))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(explained_at__isnull=self.value() == "no")
        return queryset


@admin.register(ReconciliationDifference)
class ReconciliationDifferenceAdmin(OrgScopedAdmin):
    org_path = "reconciliation__organization"
    capability = "exports.run"
    form = ExplainForm
    list_display = ("kind", "reference_or_source", "external_id", "currency", "ours", "theirs", "drill_down",
                    "explained_badge")
    list_filter = (("kind", ChoicesDropdownFilter), ExplainedFilter, ("reconciliation", RelatedDropdownFilter))
    list_select_related = ("record",)   # the drill-down links read it
    search_fields = ("=reference", "=external_id", "=source_id")
    readonly_fields = ("reconciliation", "kind", "currency", "reference", "external_id", "record", "source_kind",
                       "source_id", "expected", "actual", "detail_text", "drill_down", "explained_by_label",
                       "explained_at")
    fields = (*readonly_fields, "explanation")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @display(description=_("detail"))
    def detail_text(self, obj):
        """Our words in the reader's language; a memo or a reference as it was written."""
        return bidi(shown(obj.detail, obj.detail_message))

    def save_model(self, request, obj, form, change):
        difference_explain(difference=obj, note=form.cleaned_data["explanation"], by=request.user)

    @display(description=_("Reference / source"))
    def reference_or_source(self, obj):
        return obj.reference or obj.source_id or "—"

    @display(description=_("Ours"))
    def ours(self, obj):
        return _money(obj, "expected")

    @display(description=_("Vendor"))
    def theirs(self, obj):
        return _money(obj, "actual")

    @display(description=_("Drill down"))
    def drill_down(self, obj):
        return _links(obj) or "—"

    @display(description=_("Explained"), label={"yes": "success", "no": "danger"})
    def explained_badge(self, obj):
        return ("yes", f"{obj.explained_by_label}") if obj.explained else ("no", _("not explained"))
