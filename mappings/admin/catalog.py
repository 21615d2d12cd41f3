"""The cached remote catalog (searchable, refreshable) and per-organisation suggestion settings."""

from django.contrib import admin, messages
from django.http import JsonResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django.views.decorators.http import require_GET
from unfold.contrib.filters.admin import RelatedDropdownFilter
from unfold.decorators import display

from connectors.base import CatalogKind
from connectors.errors import ConnectorError
from expensico_sync.core.admin.confirm import confirmed_action
from expensico_sync.core.admin.scoping import OrgScopedAdmin

from ..models import MappingPreference, RemoteCatalogItem
from ..selectors import catalog_search
from ..services import catalog_refresh
from .forms import writable_connections

K = CatalogKind
# The refresh's counts in the language's plural forms (Arabic has six).
CATALOG_COUNTS = {
    K.ACCOUNTS: ngettext_lazy("%(count)s account", "%(count)s accounts", "count"),
    K.BANK_ACCOUNTS: ngettext_lazy("%(count)s bank account", "%(count)s bank accounts", "count"),
    K.TAX_RATES: ngettext_lazy("%(count)s tax rate", "%(count)s tax rates", "count"),
    K.DIMENSIONS: ngettext_lazy("%(count)s dimension value", "%(count)s dimension values", "count"),
    K.CONTACTS: ngettext_lazy("%(count)s contact", "%(count)s contacts", "count"),
    K.CURRENCIES: ngettext_lazy("%(count)s currency", "%(count)s currencies", "count"),
}

@admin.register(RemoteCatalogItem)
class RemoteCatalogItemAdmin(OrgScopedAdmin):
    org_path = "organization"
    capability = "mappings.edit"
    list_display = ("code", "name", "kind_badge", "classification", "active", "connection", "refreshed_at")
    list_filter = (("connection", RelatedDropdownFilter), "kind", "active", "classification")
    search_fields = ("code", "name", "remote_id")
    readonly_fields = ("connection", "kind", "remote_id", "name", "code", "classification", "active", "refreshed_at")
    actions_list = ["refresh_catalogs"]

    def has_add_permission(self, request, *args):
        return False

    def get_urls(self):
        search = path("search/", self.admin_site.admin_view(require_GET(self.search_view)),
                      name="mappings_remotecatalogitem_search")
        return [search, *super().get_urls()]

    def search_view(self, request):
        """The catalog picker's autocomplete (Select2's JSON): the connections this person may map,
        one connection and kind when asked, matched on the server (prefix first, then contains)."""
        items = RemoteCatalogItem.objects.filter(connection__in=writable_connections(request.user), active=True)
        for param, field in (("connection", "connection_id"), ("kind", "kind"), ("type", "classification")):
            if value := request.GET.get(param, "").strip():
                if param == "connection" and not value.isdecimal():   # isdigit() lets "²" through to int()
                    return JsonResponse({"error": "connection: give its number"}, status=400)
                items = items.filter(**{field: value})
        found = catalog_search(items=items, q=request.GET.get("q", ""))
        return JsonResponse({"results": [
            {"id": i.remote_id, "text": " · ".join(p for p in (i.code, i.name, i.classification) if p),
             "code": i.code, "name": i.name, "type": i.classification} for i in found],
            "pagination": {"more": False}})

    def has_change_permission(self, request, obj=None):
        return False

    @display(description=_("Kind"), label=True)
    def kind_badge(self, obj):
        return obj.kind

    @confirmed_action(description=_("Refresh from the accounting systems"), icon="sync", permissions=("refresh",),
                      url_path="refresh",
                      what=_("Every connection you manage is asked for its accounts, tax rates and dimensions; "
                           "the cached catalog is replaced with the answers."))
    def refresh_catalogs(self, request):
        from django.shortcuts import redirect

        for connection in writable_connections(request.user):
            try:
                counts = catalog_refresh(connection=connection)
            except (ConnectorError, LookupError) as exc:
                messages.error(request, f"{connection}: {exc}")
                continue
            messages.success(request, f"{connection}: " + ", ".join(
                CATALOG_COUNTS[k] % {"count": n} if k in CATALOG_COUNTS else f"{n} {k}" for k, n in counts.items()))
        return redirect("admin:mappings_remotecatalogitem_changelist")

    def has_refresh_permission(self, request):
        return self._can(request)


@admin.register(MappingPreference)
class MappingPreferenceAdmin(OrgScopedAdmin):
    org_path = "organization"
    capability = "mappings.edit"
    list_display = ("organization", "auto_apply_threshold", "model_auto_apply", "model_disagree_at")
