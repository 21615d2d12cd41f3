"""Admin: anomaly flags (dismiss with a reason, or confirm), each detector's switch and threshold,
and the dismissals the detectors learnt from. A scan can be started from the flags list."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.decorators import display
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextareaWidget

from expensico_sync.core.admin.confirm import confirmed_action
from expensico_sync.core.admin.paging import values_filter
from expensico_sync.core.admin.scoping import OrgScopedAdmin
from expensico_sync.core.selectors import organizations_with_capability

from ..errors import Refused
from ..messages import shown
from ..refusals import refusal_shown
from .detectors import DETECTORS
from .models import AnomalyDismissal, AnomalyFlag, AnomalySetting
from .services import anomaly_confirm, anomaly_dismiss
from .sync import SYNC_DETECTORS

LABELS: dict[str, str] = {**{k: d.label for k, d in DETECTORS.items()},
                          **{k: str(v[0]) for k, v in SYNC_DETECTORS.items()}}
CHOICES: list[tuple[str, str]] = sorted(LABELS.items(), key=lambda pair: pair[1])


class FlagDecisionForm(forms.ModelForm):
    # Unfold's widgets: Django's plain select and textarea showed borderless on the page.
    decision = forms.ChoiceField(required=False, widget=UnfoldAdminSelectWidget, choices=[("", _("— leave open —")),
                                                          ("dismiss", _("Dismiss: not unusual here (teaches the detector)")),
                                                          ("confirm", _("Confirm: seen, it is real"))])
    decision_reason = forms.CharField(required=False, widget=UnfoldAdminTextareaWidget(attrs={"rows": 2}),
                                      help_text=_("Required to dismiss: the detector will not flag this pattern again"))

    class Meta:
        model = AnomalyFlag
        fields: tuple[str, ...] = ()

    def clean(self):
        data = super().clean()
        if data.get("decision") == "dismiss" and not (data.get("decision_reason") or "").strip():
            self.add_error("decision_reason", _("Say why this is not unusual."))
        return data


@admin.register(AnomalyFlag)
class AnomalyFlagAdmin(OrgScopedAdmin):
    org_path = "organization"
    capability = "review.work"
    form = FlagDecisionForm
    list_display = ("created_at", "detector_label", "expense_link", "explanation_text", "score", "status_badge")
    # The detectors are known: no DISTINCT over every flag for the filter's choices on each page.
    list_filter = (values_filter("detector", AnomalyFlag._meta.get_field("detector").verbose_name, CHOICES), "status")
    list_select_related = ("expense",)
    # By the expense's id, as a prefix on its index (joined to the flags by their expense index); the
    # explanation's words in the same OR made every search join and scan all flags and expenses.
    search_fields = ("^expense__expensico_id",)
    sortable_by = ("created_at", "detector_label")   # indexed; the others sorted every flag for a page
    actions_list = ["scan_now"]
    readonly_fields = ("detector_label", "expense_link", "review_link", "explanation_text", "score", "pattern", "context",
                       "status", "reason", "decided_by_label", "decided_at", "created_at")
    fieldsets = ((None, {"fields": ("detector_label", "expense_link", "review_link", "explanation_text", "score",
                                    "context", "created_at")}),
                 (_("Decision"), {"fields": ("decision", "decision_reason", "status", "reason", "decided_by_label",
                                          "decided_at", "pattern")}))

    def has_add_permission(self, request, *args):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        decision, reason = form.cleaned_data.get("decision"), form.cleaned_data.get("decision_reason") or ""
        try:
            if decision == "dismiss":
                anomaly_dismiss(flag=obj, by=request.user, reason=reason)
                messages.success(request, _("Dismissed: this pattern is not flagged again."))
            elif decision == "confirm":
                anomaly_confirm(flag=obj, by=request.user, reason=reason)
                messages.success(request, _("Confirmed."))
        except Refused as exc:
            messages.error(request, refusal_shown(exc))

    @display(description=_("Detector"), ordering="detector")
    def detector_label(self, obj):
        return LABELS.get(obj.detector, obj.detector)

    @display(description=_("explanation"))
    def explanation_text(self, obj):
        return shown(obj.explanation, obj.explanation_message)

    @display(description=_("Expense"))
    def expense_link(self, obj):
        url = reverse("admin:source_expense_change", args=[obj.expense_id])
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, obj.expense.expensico_id)

    @display(description=_("Review item"))
    def review_link(self, obj):
        if obj.review_item_id is None:
            return _("waiting: the record has another open review item")
        url = reverse("admin:exports_reviewitem_change", args=[obj.review_item_id])
        return format_html('<a class="text-primary-600" href="{}">#{}</a>', url, obj.review_item_id)

    @display(description=_("Status"), label={"open": "warning", "dismissed": "info", "confirmed": "danger"})
    def status_badge(self, obj):
        return obj.status, obj.get_status_display()

    @confirmed_action(description=_("Scan for anomalies now"), icon="troubleshoot", permissions=("view",),
                      what=_("Scan the last 35 days of your organisations' spend (against the past year) in the "
                           "background. Flags appear here and in the review queue."))
    def scan_now(self, request):
        from django_q.tasks import async_task

        orgs = list(organizations_with_capability(request.user, self.capability))
        for org in orgs:
            async_task("exports.anomalies.tasks.anomalies_scan_one", org.pk)
        messages.success(request, ngettext("Scanning %(count)s organisation in the background.",
                                            "Scanning %(count)s organisations in the background.", len(orgs)) % {
            "count": len(orgs)})
        return redirect("admin:exports_anomalyflag_changelist")


class SettingForm(forms.ModelForm):
    detector = forms.ChoiceField(choices=CHOICES)

    class Meta:
        model = AnomalySetting
        fields = ("organization", "detector", "enabled", "threshold", "options")


@admin.register(AnomalySetting)
class AnomalySettingAdmin(OrgScopedAdmin):
    org_path = "organization"
    capability = "exports.run"
    form = SettingForm
    list_display = ("organization", "detector_label", "enabled", "threshold_display", "updated_at")
    list_filter = ("enabled",)

    @display(description=_("Detector"), ordering="detector")
    def detector_label(self, obj):
        return LABELS.get(obj.detector, obj.detector)

    @display(description=_("Threshold"))
    def threshold_display(self, obj):
        default = DETECTORS[obj.detector].threshold if obj.detector in DETECTORS else \
            SYNC_DETECTORS.get(obj.detector, ("", None, ""))[1]
        return obj.threshold if obj.threshold is not None else f"default ({default if default is not None else '—'})"


@admin.register(AnomalyDismissal)
class AnomalyDismissalAdmin(OrgScopedAdmin):
    org_path = "organization"
    capability = "exports.run"
    list_display = ("created_at", "detector", "pattern", "score", "reason", "by_label")
    list_filter = ("detector",)
    readonly_fields = ("detector", "pattern", "score", "reason", "flag", "by_label", "created_at")
    fields = readonly_fields

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False
