"""The mapping-set screen: one connection's gaps, history (with rollback), templates and cloning."""

import base64

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django.views.decorators.http import require_POST
from unfold.decorators import display

from connectors.registry import system_label
from expensico_sync.core.admin.scoping import OrgScopedAdmin
from expensico_sync.core.formatting import money_text

from ..dashboard import cached_gaps
from ..gap_words import gap_detail_text, gap_key_label, gap_kind_label
from ..history import mapping_revert, mapping_set_history, mapping_set_revert
from ..models import MAPPING_MODELS, MappingSet
from ..selectors import mapping_snapshot, mapping_version
from ..services import category_mapping_apply_suggestion, mapping_set_clone
from ..set_templates import CONTENT_TYPES, FORMATS, mapping_set_export, mapping_set_import
from ..suggest import AccountSuggester
from .forms import CloneForm, MapGapForm, SetImportForm

KIND_ADMIN = {m.KIND: f"admin:mappings_{m._meta.model_name}_changelist" for m in MAPPING_MODELS}
# The list's counts in the language's plural forms (Arabic has six), per MAPPING_MODELS kind.
KIND_COUNTS = {
    "category": ngettext_lazy("%(count)s category mapping", "%(count)s category mappings", "count"),
    "tax": ngettext_lazy("%(count)s tax mapping", "%(count)s tax mappings", "count"),
    "currency": ngettext_lazy("%(count)s currency policy", "%(count)s currency policies", "count"),
    "rate": ngettext_lazy("%(count)s exchange rate", "%(count)s exchange rates", "count"),
    "dimension": ngettext_lazy("%(count)s dimension mapping", "%(count)s dimension mappings", "count"),
    "merchant": ngettext_lazy("%(count)s merchant rule", "%(count)s merchant rules", "count"),
    "hold": ngettext_lazy("%(count)s hold rule", "%(count)s hold rules", "count"),
    "rule": ngettext_lazy("%(count)s coding rule", "%(count)s coding rules", "count"),
}
GAP_TARGET = {"category": "categorymapping", "tax": "taxmapping", "dimension": "dimensionmapping",
              "currency": "exchangerate", "setting": None}


@admin.register(MappingSet)
class MappingSetAdmin(OrgScopedAdmin):
    org_path = "organization"
    capability = "mappings.edit"
    list_display = ("name", "system_text", "organization", "mapping_counts", "gap_badge", "last_change")
    search_fields = ("name", "system")
    list_display_links = ("name",)

    @display(description=_("System"), ordering="system")
    def system_text(self, obj):
        return system_label(obj.system)   # the name people know, not the registry key

    def has_add_permission(self, request, *args):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # Counts and last changes per kind as subqueries of the one list query: three columns
        # asked seven tables each, per set.
        per_kind = {}
        for m in MAPPING_MODELS:
            per_kind[f"_n_{m.KIND}"] = Coalesce(Subquery(
                m.objects.filter(connection_id=OuterRef("pk")).order_by().values("connection_id")
                .annotate(n=Count("pk")).values("n")), 0)
            per_kind[f"_at_{m.KIND}"] = Subquery(m.history.filter(connection_id=OuterRef("pk"))
                                                 .order_by("-history_date").values("history_date")[:1])
        return super().get_queryset(request).annotate(**per_kind)

    @staticmethod
    def _version(obj) -> str:
        """mapping_version(obj), from the list query's annotations when it has them."""
        if not hasattr(obj, f"_at_{MAPPING_MODELS[0].KIND}"):
            return mapping_version(obj)
        times = [t for t in (getattr(obj, f"_at_{m.KIND}") for m in MAPPING_MODELS) if t is not None]
        return max(times).isoformat() if times else "empty"

    @display(description=_("Mappings"))
    def mapping_counts(self, obj):
        counts = [(m, getattr(obj, f"_n_{m.KIND}", None)) for m in MAPPING_MODELS]
        counts = [(m.KIND, m.objects.filter(connection_id=obj.pk).count() if n is None else n) for m, n in counts]
        return ", ".join(KIND_COUNTS[kind] % {"count": n} for kind, n in counts if n) or _("none yet")

    @display(description=_("Gaps"), label={"ok": "success", "gaps": "danger"})
    def gap_badge(self, obj):
        rows = cached_gaps(obj, version=self._version(obj))
        blocked = sum(r["expenses"] for r in rows)
        return (("gaps", _("%(missing)s missing · %(blocked)s blocked") % {"missing": len(rows), "blocked": blocked})
                if rows else ("ok", _("complete")))

    @display(description=_("Last change"))
    def last_change(self, obj):
        version = self._version(obj)
        return "—" if version == "empty" else parse_datetime(version).strftime("%Y-%m-%d %H:%M")

    # --- the set screen -------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        mine = [
            path("<int:pk>/export/<str:fmt>/", wrap(self.export_view), name="mappings_mappingset_export"),
            path("<int:pk>/import/", wrap(require_POST(self.import_view)), name="mappings_mappingset_import"),
            path("<int:pk>/revert/", wrap(require_POST(self.revert_view)), name="mappings_mappingset_revert"),
            path("<int:pk>/clone/", wrap(require_POST(self.clone_view)), name="mappings_mappingset_clone"),
            path("<int:pk>/map-gap/", wrap(require_POST(self.map_gap_view)), name="mappings_mappingset_map_gap"),
        ]
        return mine + super().get_urls()

    def _set(self, request, pk, write=False):
        obj = self.get_queryset(request).filter(pk=pk).select_related("organization").first()
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        if write and not self._can(request, obj):
            raise PermissionDenied
        return obj

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return self._render(request, self._set(request, object_id))

    def _render(self, request, obj, *, import_report=None, import_payload="", import_format="", status=200):
        changed_at = self._version(obj)  # from the annotations of `_set`'s query: no query per kind
        gaps = cached_gaps(obj, version=changed_at)
        suggester = AccountSuggester(connection=obj)
        for gap in gaps:
            gap["kind_label"], gap["key_label"] = gap_kind_label(gap["kind"]), gap_key_label(gap["key"])
            gap["detail_text"] = gap_detail_text(gap["detail"])
            target = GAP_TARGET.get(gap["kind"])
            gap["fix_url"] = (reverse(f"admin:mappings_{target}_add") + f"?connection={obj.pk}") if target else \
                reverse("admin:connectors_connection_change", args=[obj.pk])
            gap["amounts_text"] = " · ".join(money_text(amount, cur) for cur, amount in gap["amounts"].items())
            gap["suggestions"] = suggester.suggest(text=gap["detail"] or gap["key"], category_code=gap["key"],
                                                   limit=3) if gap["kind"] == "category" else []
        context = {
            **self.admin_site.each_context(request),
            "title": _("Mapping set: %(name)s") % {"name": obj.name},
            "system_label": system_label(obj.system),
            "opts": self.model._meta,
            "original": obj,
            "mapping_set": obj,
            "can_edit": self._can(request, obj),
            "gaps": gaps,
            "blocked_total": sum(g["expenses"] for g in gaps),
            "history": mapping_set_history(obj, limit=100),
            "version": mapping_snapshot(obj, changed_at=changed_at).version,
            "formats": FORMATS,
            "kind_links": [(m._meta.verbose_name_plural.capitalize(), reverse(KIND_ADMIN[m.KIND]) +
                            f"?connection__id__exact={obj.pk}", getattr(obj, f"_n_{m.KIND}"))
                           for m in MAPPING_MODELS],
            "import_form": SetImportForm(),
            "clone_form": CloneForm(user=request.user, exclude_pk=obj.pk),
            "import_report": import_report,
            "import_payload": import_payload,
            "import_format": import_format,
        }
        return TemplateResponse(request, "mappings/admin/mapping_set.html", context, status=status)

    def export_view(self, request, pk, fmt):
        obj = self._set(request, pk)
        if fmt not in FORMATS:
            raise Http404
        response = HttpResponse(mapping_set_export(connection=obj, fmt=fmt), content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="mappings-{obj.organization.slug}-{obj.pk}.{fmt}"'
        return response

    def import_view(self, request, pk):
        """First post: a dry run shown row by row. Second post ("apply"): the same bytes, for real."""
        obj = self._set(request, pk, write=True)
        if "apply" in request.POST:
            content = base64.b64decode(request.POST.get("payload", ""))
            fmt = request.POST.get("format", "")
            report = mapping_set_import(connection=obj, content=content, fmt=fmt, dry_run=False)
            if report.has_errors:
                return self._render(request, obj, import_report=report, status=400)
            totals = report.totals()
            messages.success(request, _("Imported: %(new)s created, %(update)s updated, %(skip)s unchanged.") % totals)
            return redirect(reverse("admin:mappings_mappingset_change", args=[obj.pk]) + "#templates")
        form = SetImportForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, _("Choose a file and its format."))
            return redirect(reverse("admin:mappings_mappingset_change", args=[obj.pk]) + "#templates")
        content = form.cleaned_data["file"].read()
        fmt = form.cleaned_data["format"]
        report = mapping_set_import(connection=obj, content=content, fmt=fmt, dry_run=True)
        return self._render(request, obj, import_report=report, import_payload=base64.b64encode(content).decode(),
                            import_format=fmt)

    def revert_view(self, request, pk):
        obj = self._set(request, pk, write=True)
        if request.POST.get("history_id"):
            try:
                restored = mapping_revert(kind=request.POST.get("kind", ""), connection=obj,
                                          history_id=int(request.POST["history_id"]), user=request.user)
            except (LookupError, ValueError) as exc:
                raise Http404(str(exc)) from None
            messages.success(request, _("Restored %(what)s.") % {"what": restored})
        else:
            at = parse_datetime(request.POST.get("at", "").strip())
            if at is not None and timezone.is_naive(at):
                at = timezone.make_aware(at)  # typed without an offset: the site's time zone
            if at is None:
                messages.error(request, _("Pick a point in time."))
            else:
                counts = mapping_set_revert(connection=obj, at=at, user=request.user)
                messages.success(request, _("Set reverted to %(at)s: %(restored)s restored, %(deleted)s removed, %(unchanged)s unchanged.")
                                 % {**counts, "at": f"{at:%Y-%m-%d %H:%M:%S}"})
        return redirect(reverse("admin:mappings_mappingset_change", args=[obj.pk]) + "#history")

    def clone_view(self, request, pk):
        obj = self._set(request, pk, write=True)
        form = CloneForm(request.POST, user=request.user, exclude_pk=obj.pk)
        if form.is_valid():
            counts = mapping_set_clone(source=form.cleaned_data["source"], target=obj,
                                       replace=form.cleaned_data["replace"], user=request.user)
            messages.success(request, _("Cloned: %(created)s created, %(updated)s updated, %(deleted)s removed.") % counts)
        else:
            messages.error(request, _("Choose a connection to clone from."))
        return redirect(reverse("admin:mappings_mappingset_change", args=[obj.pk]))

    def map_gap_view(self, request, pk):
        """The one-click fix re-books every expense the gap holds: the first post asks, with how
        many expenses and how much money; the confirmed post maps."""
        obj = self._set(request, pk, write=True)
        form = MapGapForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a suggested account for a gap."))
            return redirect(reverse("admin:mappings_mappingset_change", args=[obj.pk]))
        data = form.cleaned_data
        if not data["confirmed"]:
            return self._confirm_map_gap(request, obj, form)
        mapping = category_mapping_apply_suggestion(
            connection=obj, category_code=data["category_code"], category_name=data["category_name"],
            account=data["account"], account_name=data["account_name"], user=request.user)
        messages.success(request, format_html(_("Mapped {}. Blocked exports are re-queued."), mapping))
        return redirect(reverse("admin:mappings_mappingset_change", args=[obj.pk]))

    def _confirm_map_gap(self, request, obj, form):
        data = form.cleaned_data
        gap = next((g for g in cached_gaps(obj, version=self._version(obj))
                    if g["kind"] == "category" and g["key"] == data["category_code"]), None)
        expenses = gap["expenses"] if gap else 0
        amounts = " · ".join(money_text(amount, cur) for cur, amount in gap["amounts"].items()) if gap else ""
        confirm = MapGapForm(initial={**data, "confirmed": True})
        words = {"category": data["category_code"], "account": data["account_name"] or data["account"]}
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": obj,
                   "title": _("Map %(category)s to %(account)s") % words,
                   "what": _("Category %(category)s is booked to %(account)s from now on, and every expense this "
                             "gap holds is sent again.") % words,
                   "rows": [(_("Expenses re-booked"), expenses), (_("Amount"), amounts or "—")],
                   "submit_text": _("Map and re-book"), "form": confirm,
                   "cancel_url": reverse("admin:mappings_mappingset_change", args=[obj.pk])}
        return TemplateResponse(request, "admin/confirm_action.html", context)
