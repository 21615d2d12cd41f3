"""The model page: per connection the version in use with its figures (account and each dimension
head) and the drift chart (weekly accuracy on reviewer corrections); every version below (accuracy,
coverage), train now, roll back; and the reviewer corrections the next training learns from."""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RelatedDropdownFilter
from unfold.decorators import display

from expensico_sync.core.admin.confirm import confirmed_action
from expensico_sync.core.admin.scoping import OrgScopedAdmin

from ..drift import DROP, drift_chart, drift_of
from ..models import CategoriserModel, CodingCorrection, MappingSet
from ..training import categoriser_rollback
from .forms import writable_connections


@admin.register(CategoriserModel)
class CategoriserModelAdmin(OrgScopedAdmin):
    org_path = "organization"
    capability = "mappings.edit"
    list_display = ("connection", "version_label", "status_badge", "accuracy", "coverage_display",
                    "precision_display", "heads_display", "training_size", "heldout_size", "trained_at")
    list_filter = (("connection", RelatedDropdownFilter), "status")
    readonly_fields = ("connection", "version", "status", "trained_at", "training_size", "heldout_size",
                       "heldout_accuracy", "coverage", "precision_at_threshold", "heads_display", "sklearn_version",
                       "note")
    list_before_template = "mappings/admin/categoriser_summary.html"
    fields = readonly_fields
    actions_list = ["train_now"]
    actions_detail = ["rollback_to"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("blob", "heldout_ids")

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        """Above the versions: per connection in scope, the version in use and the drift chart."""
        ids = self.get_queryset(request).filter(status=CategoriserModel.Status.PROMOTED).values("connection_id")
        connections = list(MappingSet.objects.filter(pk__in=ids).order_by("name"))
        in_use = {m.connection_id: m for m in self.get_queryset(request).filter(
            status=CategoriserModel.Status.PROMOTED, connection__in=connections)}
        summary = [{"connection": c, "model": in_use[c.pk], "heads": _heads(in_use[c.pk]), "drift": drift_of(c),
                    "chart": drift_chart([c])} for c in connections]
        return super().changelist_view(request, {**(extra_context or {}), "categoriser_summary": summary,
                                                 "drift_drop": f"{DROP:.0%}"})

    @display(description=_("Dimension heads (held-out accuracy)"))
    def heads_display(self, obj):
        return " · ".join(f"{h['key']} {h['accuracy']}" for h in _heads(obj)) or "—"

    def has_train_permission(self, request, object_id=None):
        return self._can(request)

    @display(description=_("Version"), ordering="version")
    def version_label(self, obj):
        return f"v{obj.version}"

    @display(description=_("Status"), label={"promoted": "success", "candidate": "info", "retired": "info",
                                          "rejected": "warning"})
    def status_badge(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("Held-out accuracy"), ordering="heldout_accuracy")
    def accuracy(self, obj):
        return f"{obj.heldout_accuracy:.1%}"

    @display(description=_("Coverage at threshold"))
    def coverage_display(self, obj):
        return f"{obj.coverage:.1%}"

    @display(description=_("Precision at threshold"))
    def precision_display(self, obj):
        return f"{obj.precision_at_threshold:.1%}" if obj.coverage else "—"

    @confirmed_action(description=_("Train now"), icon="model_training", permissions=("train",), url_path="train",
                      what=_("A new version is trained for every connection you manage, on its booked history and "
                           "reviewer corrections. It replaces the version in use only if at least as accurate on the "
                           "same held-out expenses."))
    def train_now(self, request):
        from django_q.tasks import async_task

        for connection in writable_connections(request.user):
            async_task("mappings.tasks.categoriser_train_task", connection.pk)
        messages.success(request, _("Training queued; new versions appear here when done."))
        return redirect("admin:mappings_categorisermodel_changelist")

    @confirmed_action(description=_("Put this version in use"), icon="history", permissions=("train",),
                      what=_("This version codes expenses again from now on; the one in use is retired (and can be "
                           "put back the same way)."))
    def rollback_to(self, request, object_id):
        model = self.get_queryset(request).get(pk=object_id)
        categoriser_rollback(connection=model.connection, version=model.version)
        messages.success(request, _("v%(version)s is in use.") % {"version": model.version})
        return redirect("admin:mappings_categorisermodel_changelist")


def _heads(model: CategoriserModel) -> list[dict]:
    return [{"key": key, "accuracy": f"{e['accuracy']:.1%}", "coverage": f"{e['coverage']:.1%}",
             "precision": f"{e['precision']:.1%}" if e["coverage"] else "—", "size": e["size"]}
            for key, e in sorted((model.heads or {}).items())]


@admin.register(CodingCorrection)
class CodingCorrectionAdmin(OrgScopedAdmin):
    org_path = "organization"
    capability = "mappings.edit"
    list_display = ("source_id", "account", "account_name", "predicted_account", "predicted_probability",
                    "dimensions", "accepted", "by_label", "created_at")
    list_filter = (("connection", RelatedDropdownFilter), "accepted")
    search_fields = ("^source_id", "account", "account_name")
    readonly_fields = ("connection", "source_id", "account", "account_name", "predicted_account",
                       "predicted_probability", "dimensions", "predicted_dimensions", "model_version", "accepted",
                       "by_label", "created_at")
    fields = readonly_fields

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False
