"""One admin screen per mapping kind: filters, search, catalog-assisted inputs, inline history."""

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import display

from connectors.base import connector_class
from expensico_sync.core.admin.scoping import OrgScopedAdmin
from expensico_sync.core.formatting import currency_decimals

from ..history import ACTION_LABELS, mapping_set_history
from ..models import (
    CategoryMapping,
    CurrencyPolicy,
    DimensionMapping,
    ExchangeRate,
    HoldRule,
    MerchantRule,
    RemoteCatalogItem,
    TaxMapping,
)
from ..preflight import mapping_warnings
from ..resources import RESOURCES
from ..suggest import suggest_accounts
from .forms import (
    CatalogInput,
    CatalogSelect,
    ConnectionConfirmImportForm,
    ConnectionImportForm,
    writable_connections,
)

# field -> (catalog kind it is picked from, the name field the pick fills)
CATALOG_FIELDS = {"account": ("accounts", "account_name"), "tax_account": ("accounts", "tax_account_name"),
                  "fx_account": ("accounts", "fx_account_name"), "tax_rate": ("tax_rates", "tax_rate_name"),
                  "remote_id": ("dimensions", "remote_name"), "contact": ("contacts", "contact_name")}


def readable_remote_id(connection, remote_id: str) -> str:
    """A connector whose ids are opaque (Apideck encodes Workday's account set and account in
    base64 JSON) decodes them in `readable_id(remote_id)`; the mapping screens show that instead."""
    try:
        connector = connector_class(connection.system)
    except LookupError:
        return remote_id
    return connector.readable_id(remote_id) if remote_id else remote_id


class MappingAdmin(SimpleHistoryAdmin, ImportExportModelAdmin, OrgScopedAdmin):
    org_path = "organization"
    capability = "mappings.edit"
    import_form_class = ConnectionImportForm
    confirm_form_class = ConnectionConfirmImportForm
    export_form_class = ExportForm
    list_select_related = ("connection",)
    readonly_fields = ("recent_changes",)
    history_list_display = ("changed_fields",)

    def get_resource_classes(self, request):
        return [RESOURCES[self.model.KIND]]

    # The connection chosen on the import form binds the resource; the file never names it.
    def get_import_form_kwargs(self, request):
        return {**super().get_import_form_kwargs(request), "user": request.user}

    def get_confirm_form_kwargs(self, request, import_form=None):
        return {**super().get_confirm_form_kwargs(request, import_form), "user": request.user}

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["connection"] = import_form.cleaned_data["connection"].pk
        return initial

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        data = getattr(form, "cleaned_data", None) or {}
        return {"connection": data.get("connection")}

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"connection": None}

    def get_export_queryset(self, request):
        return super().get_export_queryset(request).order_by("connection_id", *self.model._meta.ordering)

    def get_form(self, request, obj=None, change=False, **kwargs):
        # Subclassed first: a ModelForm subclass rebuilds its fields, so the widgets are set after.
        form = _with_preflight(super().get_form(request, obj, change, **kwargs))
        connection_id = obj.connection_id if obj else request.GET.get("connection")
        if connection_id and not str(connection_id).isdecimal():
            connection_id = None  # a malformed ?connection= pre-selects nothing (it was a 500)
        items = RemoteCatalogItem.objects.filter(connection__in=writable_connections(request.user), active=True)
        if connection_id:
            items = items.filter(connection_id=connection_id)
        for name, (kind, name_field) in CATALOG_FIELDS.items():
            if name in form.base_fields:
                query = urlencode({"kind": kind, **({"connection": connection_id} if connection_id else {})})
                form.base_fields[name].widget = CatalogSelect(
                    items=items.filter(kind=kind), name_field=name_field,
                    search_url=f"{reverse('admin:mappings_remotecatalogitem_search')}?{query}")
                form.base_fields[name].help_text = _("Search the accounting system's catalog by code, name or type.")
        if "remote_kind" in form.base_fields:
            # The kinds this connection's dimensions come in, as the connector names them.
            kinds = (items.filter(kind="dimensions").exclude(classification="").values("classification")
                     .annotate(n=Count("id")).order_by("classification"))
            form.base_fields["remote_kind"].widget = CatalogInput(items=[
                {"remote_id": k["classification"], "code": "", "name": ngettext("%(count)s value in the catalog", "%(count)s values in the catalog", k["n"]) % {"count": k["n"]}}
                for k in kinds])
        return form

    @display(description=_("Recent changes"))
    def recent_changes(self, obj):
        if not obj or not obj.pk:
            return "—"
        # This mapping's own versions: the whole set's (500 rows, a query each) took seconds.
        rows = mapping_set_history(obj.connection, kinds=[self.model.KIND], limit=5, object_id=obj.pk)
        if not rows:
            return "—"
        return format_html_join(
            "", "<div class='mb-2'><strong>{}</strong> {}<br>{}</div>",
            ((r.at.strftime("%Y-%m-%d %H:%M"), gettext("%(action)s by %(who)s") % {"action": r.action_label, "who": r.who},
              format_html_join("", "{}: {} → <strong>{}</strong><br>",
                               ((c.label, c.old_shown if c.old not in (None, "") else "∅", c.new_shown)
                                for c in r.changes)))
             for r in rows))

    @display(description=_("Changed"))
    def changed_fields(self, obj):
        previous = obj.prev_record
        if previous is None:
            return ACTION_LABELS["created"]
        delta = obj.diff_against(previous, excluded_fields=["updated_at"])
        return format_html_join(", ", "{}: {} → {}", ((obj._meta.get_field(c.field).verbose_name, c.old, c.new)
                                                       for c in delta.changes)) or "—"


def _with_preflight(form_class):
    """The vendor would refuse what is about to be saved (an inactive account, an unknown tax
    code …): the field says so and how to fix it, before the save, as the worker's pre-flight would."""

    class PreflightForm(form_class):
        def clean(self):
            data = super().clean()
            connection = data.get("connection") or getattr(self.instance, "connection", None)
            if connection is not None:
                values = {name: data.get(name) for name in CATALOG_FIELDS if name in self.fields}
                for name, message in mapping_warnings(connection=connection, values=values).items():
                    self.add_error(name, message)
            return data

    PreflightForm.__name__ = form_class.__name__
    return PreflightForm


@admin.register(CategoryMapping)
class CategoryMappingAdmin(MappingAdmin):
    list_display = ("category_code", "category_name", "scope", "account_display", "connection", "updated_at")
    list_filter = (("connection", RelatedDropdownFilter), ("funding_source", ChoicesDropdownFilter),
                   ("expense_type", ChoicesDropdownFilter))
    search_fields = ("category_code", "category_name", "account", "account_name")
    readonly_fields = ("account_readable", "suggestions", "recent_changes")
    fieldsets = (
        (None, {"fields": ("connection", ("category_code", "category_name"))}),
        (_("Remote account"), {"fields": (("account", "account_name"), "account_readable", "suggestions")}),
        (_("Overrides"), {"fields": (("funding_source", "expense_type"),),
                       "description": _("Leave blank for the default mapping; set to override it for claims "
                                      "or cards, or for mileage, per diem and driver honorarium.")}),
        (_("History"), {"fields": ("recent_changes",)}),
    )

    @display(description=_("Applies to"), label={"any": "info", "override": "warning"})
    def scope(self, obj):
        parts = [obj.get_funding_source_display() if obj.funding_source else "",
                 obj.get_expense_type_display() if obj.expense_type else ""]
        text = " · ".join(p for p in parts if p)
        return ("override", text) if text else ("any", "Any")

    @display(description=_("Account"), ordering="account_name")
    def account_display(self, obj):
        readable = readable_remote_id(obj.connection, obj.account)
        return format_html("{} <span class='text-base-400'>{}</span>", obj.account_name or readable,
                           readable if obj.account_name else "")

    @display(description=_("Account id, as the accounting system shows it"))
    def account_readable(self, obj):
        if not obj or not obj.account:
            return "—"
        return readable_remote_id(obj.connection, obj.account)

    @display(description=_("Suggested accounts"))
    def suggestions(self, obj):
        if not obj or not obj.pk:
            return _("Save once with a connection and category to see suggestions.")
        found = suggest_accounts(connection=obj.connection, text=obj.category_name or obj.category_code,
                                 category_code=obj.category_code)
        if not found:
            return _("No catalog cached for this connection yet: refresh it under Remote catalog.")
        return format_html_join(
            "", "<div class='flex items-center gap-2 mb-1'><button type='button' class='border border-base-200 "
                "rounded-default px-2 py-1' onclick=\"django.jQuery('#id_account').val('{}').trigger('change');"
                "document.getElementById('id_account_name').value='{}';\">{}</button>"
                "<span dir='auto'>{} {}</span><span class='text-base-400'>{} · {}</span></div>",
            ((s.remote_id, s.name.replace("'", ""), _("Use"), s.code, s.name, f"{s.score:.0f}", s.why) for s in found))


@admin.register(TaxMapping)
class TaxMappingAdmin(MappingAdmin):
    list_display = ("tax_code", "tax_rate_display", "treatment_badge", "separate_line", "connection", "updated_at")
    list_filter = (("connection", RelatedDropdownFilter), ("treatment", ChoicesDropdownFilter), "separate_line")
    search_fields = ("tax_code", "tax_rate", "tax_rate_name")
    fields = ("connection", "tax_code", ("tax_rate", "tax_rate_name"), "treatment", "separate_line",
              ("tax_account", "tax_account_name"), "recent_changes")

    @display(description=_("Remote tax rate"))
    def tax_rate_display(self, obj):
        return obj.tax_rate_name or obj.tax_rate or "—"

    @display(description=_("Treatment"), label={"as_document": "info", "inclusive": "success", "exclusive": "warning"})
    def treatment_badge(self, obj):
        return obj.treatment, obj.get_treatment_display()


@admin.register(CurrencyPolicy)
class CurrencyPolicyAdmin(MappingAdmin):
    list_display = ("connection", "source_badge", "fx_account_name", "updated_at")
    list_filter = (("connection", RelatedDropdownFilter), ("rate_source", ChoicesDropdownFilter))
    fields = ("connection", "rate_source", ("fx_account", "fx_account_name"), "recent_changes")

    @display(description=_("Rate"), label={"expensico": "info", "table": "success", "target": "warning"})
    def source_badge(self, obj):
        return obj.rate_source, obj.get_rate_source_display()


@admin.register(ExchangeRate)
class ExchangeRateAdmin(MappingAdmin):
    list_display = ("currency", "rate", "effective_from", "connection", "updated_at")
    list_filter = (("connection", RelatedDropdownFilter), "currency")
    search_fields = ("currency",)
    date_hierarchy = "effective_from"
    fields = ("connection", ("currency", "rate"), "effective_from", "recent_changes")


@admin.register(DimensionMapping)
class DimensionMappingAdmin(MappingAdmin):
    list_display = ("dimension_key", "value", "remote_kind", "remote_display", "connection", "updated_at")
    list_filter = (("connection", RelatedDropdownFilter), ("dimension_key", ChoicesDropdownFilter), "remote_kind")
    search_fields = ("value", "remote_id", "remote_name", "remote_kind")
    fields = ("connection", ("dimension_key", "value"), "remote_kind", ("remote_id", "remote_name"), "recent_changes")

    @display(description=_("Remote"), label={"sent": "success", "skipped": "info"})
    def remote_display(self, obj):
        return ("sent", obj.remote_name or obj.remote_id) if obj.remote_id else ("skipped", _("not sent"))


@admin.register(MerchantRule)
class MerchantRuleAdmin(MappingAdmin):
    list_display = ("merchant", "contact_name", "category_code", "connection", "updated_at")
    list_filter = (("connection", RelatedDropdownFilter),)
    search_fields = ("merchant", "contact", "contact_name", "category_code")
    fields = ("connection", "merchant", ("contact", "contact_name"), "category_code", "recent_changes")


@admin.register(HoldRule)
class HoldRuleAdmin(MappingAdmin):
    list_display = ("name", "active", "conditions", "connection", "updated_at")
    list_filter = (("connection", RelatedDropdownFilter), "active", "missing_receipt")
    search_fields = ("name",)
    fields = ("connection", ("name", "active"), ("amount_over", "currency"), "missing_receipt", "categories",
              "employees", "funding_source", "recent_changes")

    @display(description=_("Holds when"))
    def conditions(self, obj):
        parts = []
        if obj.amount_over is not None:
            # The currency's decimals and thousands separators ("5,000.00 SAR", not the column's "5000.000").
            places = currency_decimals(obj.currency) if obj.currency else None
            amount = (f"{obj.amount_over:,.{places}f}" if places is not None
                      else f"{obj.amount_over.normalize():,f}")
            parts.append((gettext("amount over %(amount)s %(currency)s")
                          % {"amount": amount, "currency": obj.currency or ""}).strip())
        if obj.missing_receipt:
            parts.append(gettext("no receipt"))
        if obj.categories:
            parts.append(gettext("category in %(codes)s") % {"codes": ", ".join(obj.categories)})
        if obj.employees:
            parts.append(gettext("%(count)s employee(s)") % {"count": len(obj.employees)})
        if obj.funding_source:
            parts.append(str(obj.get_funding_source_display()))
        return gettext(" and ").join(parts) or "—"
