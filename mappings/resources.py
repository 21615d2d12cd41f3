"""django-import-export resources: one per mapping kind, always bound to one connection.

The connection comes from the caller (the mapping set being imported into), never from the
file, so a template exported from one connection imports cleanly into another.
"""

import json

from import_export import fields, widgets

from expensico_sync.core.spreadsheet import SafeModelResource

from .models import (
    CategoryMapping,
    CodingRule,
    CurrencyPolicy,
    DimensionMapping,
    ExchangeRate,
    HoldRule,
    MerchantRule,
    TaxMapping,
)

COLUMNS = {
    "category": ["category_code", "category_name", "funding_source", "expense_type", "account", "account_name"],
    "tax": ["tax_code", "tax_rate", "tax_rate_name", "treatment", "separate_line", "tax_account", "tax_account_name"],
    "currency": ["rate_source", "fx_account", "fx_account_name"],
    "rate": ["currency", "effective_from", "rate"],
    "dimension": ["dimension_key", "value", "remote_kind", "remote_id", "remote_name"],
    "merchant": ["merchant", "contact", "contact_name", "category_code"],
    "hold": ["name", "active", "amount_over", "currency", "missing_receipt", "categories", "employees",
             "funding_source"],
    "rule": ["name", "position", "active", "merchant_match", "merchant", "employees", "cards", "categories",
             "expense_types", "funding_source", "amount_min", "amount_max", "currency", "custom_fields", "dimensions",
             "account", "account_name", "tax_code", "set_dimensions", "contact", "contact_name", "hold",
             "hold_reason", "skip"],
}


class StrictCharWidget(widgets.CharWidget):
    """Blank cells are empty strings (the models use "" for "any"), never None."""

    def clean(self, value, row=None, **kwargs):
        return "" if value is None else str(value).strip()


class NumberWidget(widgets.DecimalWidget):
    """A bad number is a field error naming its column (the stock widget raises a bare
    InvalidOperation, which import-export reports without the column)."""

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except ArithmeticError:
            raise ValueError(f"{value!r} is not a number.") from None


class JSONListWidget(widgets.Widget):
    """A JSON list of strings; a blank cell is the empty list (what an empty list exports as)."""

    empty, kind, example = list, "list", '["ENT", "MEALS"]'

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return self.empty()
        if isinstance(value, self.empty):
            return value
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            raise ValueError(f'{value!r} is not a JSON {self.kind}, e.g. {self.example}.') from None

    def render(self, value, obj=None, **kwargs):
        return json.dumps(value or self.empty(), ensure_ascii=False)


class JSONObjectWidget(JSONListWidget):
    empty, kind, example = dict, "object", '{"project": "P-1"}'


class ConnectionBoundResource(SafeModelResource):
    def __init__(self, connection=None, **kwargs):
        super().__init__(**kwargs)
        self.connection = connection

    @classmethod
    def widget_from_django_field(cls, f, default=widgets.Widget):
        if f.get_internal_type() == "CharField":
            return StrictCharWidget
        if f.get_internal_type() == "DecimalField":
            return NumberWidget
        return super().widget_from_django_field(f, default)

    def get_queryset(self):
        qs = self._meta.model.objects.all()
        return qs.filter(connection=self.connection) if self.connection is not None else qs

    def init_instance(self, row=None):
        return self._meta.model(connection=self.connection, organization_id=self.connection.organization_id)

    def get_export_order(self):
        return COLUMNS[self._meta.model.KIND]


def _resource(model):
    meta = type("Meta", (), {
        "model": model, "fields": COLUMNS[model.KIND], "import_id_fields": list(model.NATURAL_KEY),
        "skip_unchanged": True, "report_skipped": True, "clean_model_instances": True,
        "use_transactions": True})
    return type(f"{model.__name__}Resource", (ConnectionBoundResource,), {"Meta": meta})


CategoryMappingResource = _resource(CategoryMapping)
TaxMappingResource = _resource(TaxMapping)
ExchangeRateResource = _resource(ExchangeRate)
DimensionMappingResource = _resource(DimensionMapping)
MerchantRuleResource = _resource(MerchantRule)


class HoldRuleResource(_resource(HoldRule)):
    categories = fields.Field(attribute="categories", column_name="categories", widget=JSONListWidget())
    employees = fields.Field(attribute="employees", column_name="employees", widget=JSONListWidget())

    class Meta(_resource(HoldRule).Meta):
        pass


def _json_fields(names, widget):
    return {n: fields.Field(attribute=n, column_name=n, widget=widget()) for n in names}


CodingRuleResource = type("CodingRuleResource", (_resource(CodingRule),), {
    **_json_fields(("employees", "cards", "categories", "expense_types"), JSONListWidget),
    **_json_fields(("custom_fields", "dimensions", "set_dimensions"), JSONObjectWidget),
    "Meta": type("Meta", (_resource(CodingRule).Meta,), {})})


class CurrencyPolicyResource(_resource(CurrencyPolicy)):
    """One policy per connection: a row always updates it."""

    def get_instance(self, instance_loader, row):
        return self.get_queryset().first()

    class Meta(_resource(CurrencyPolicy).Meta):
        import_id_fields = []


RESOURCES = {
    "category": CategoryMappingResource, "tax": TaxMappingResource, "currency": CurrencyPolicyResource,
    "rate": ExchangeRateResource, "dimension": DimensionMappingResource, "merchant": MerchantRuleResource,
    "hold": HoldRuleResource, "rule": CodingRuleResource,
}
