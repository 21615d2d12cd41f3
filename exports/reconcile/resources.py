"""django-import-export resources for a reconciliation's tabular parts (evidence pack, admin export)."""

from import_export import fields

from expensico_sync.core.spreadsheet import SafeModelResource

from .models import ReconciliationDifference, ReconciliationRow


class MinorUnitField(fields.Field):
    """Money written to the currency's minor unit (3 decimals are stored for every currency)."""

    def get_value(self, obj):
        return obj.minor(self.attribute)


class ReconciliationRowResource(SafeModelResource):
    period = fields.Field(attribute="reconciliation__period", column_name="period")
    connection = fields.Field(attribute="reconciliation__connection__name", column_name="connection")
    expensico = MinorUnitField(attribute="expensico", column_name="expensico")
    booked = MinorUnitField(attribute="booked", column_name="booked")
    vendor = MinorUnitField(attribute="vendor", column_name="vendor")
    difference = MinorUnitField(attribute="difference", column_name="difference")

    class Meta:
        model = ReconciliationRow
        fields = ("period", "connection", "account_kind", "account", "currency", "expensico", "booked", "vendor",
                  "difference", "vendor_source")
        export_order = fields


class ReconciliationDifferenceResource(SafeModelResource):
    expected = MinorUnitField(attribute="expected", column_name="expected")
    actual = MinorUnitField(attribute="actual", column_name="actual")

    class Meta:
        model = ReconciliationDifference
        fields = ("id", "kind", "currency", "reference", "external_id", "record", "source_kind", "source_id",
                  "expected", "actual", "detail", "explanation", "explained_by_label", "explained_at")
        export_order = fields
