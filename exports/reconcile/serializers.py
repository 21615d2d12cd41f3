"""API shapes for reconciliations. Money is a string to the currency's minor unit."""

import re
from datetime import date

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from ..serializers import ScopedConnectionField
from .models import Reconciliation, ReconciliationDifference, ReconciliationRow

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class PeriodField(serializers.CharField):
    """`YYYY-MM` in and out; the first day of that month inside."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "The month, YYYY-MM")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        match = PERIOD.match(str(super().to_internal_value(data)))
        if not match:
            raise serializers.ValidationError("Enter a month as YYYY-MM.", code="invalid_period")
        return date(int(match[1]), int(match[2]), 1)

    def to_representation(self, value):
        return value.strftime("%Y-%m")


class MinorUnitField(serializers.DecimalField):
    """A stored money column written to its row's currency minor unit."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=18, decimal_places=3, read_only=True, **kwargs)

    def get_attribute(self, instance):
        return instance

    def to_representation(self, instance):
        value = instance.minor(self.field_name)
        return None if value is None else str(value)


class RowSerializer(serializers.ModelSerializer):
    expensico = MinorUnitField()
    booked = MinorUnitField()
    vendor = MinorUnitField()
    difference = MinorUnitField(help_text="vendor − expensico")

    class Meta:
        model = ReconciliationRow
        fields = ["account_kind", "account", "currency", "expensico", "booked", "vendor", "difference",
                  "vendor_source"]
        read_only_fields = fields


class ReconciliationSerializer(serializers.ModelSerializer):
    period = PeriodField(read_only=True)
    rows = RowSerializer(many=True, read_only=True)
    differences_url = serializers.SerializerMethodField()
    differences = serializers.SerializerMethodField()

    class Meta:
        model = Reconciliation
        fields = ["id", "organization", "connection", "period", "status", "requests_estimate", "requests_used",
                  "error", "created_by_label", "created_at", "started_at", "finished_at", "rows", "differences",
                  "differences_url"]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField())
    def get_differences(self, obj) -> int:
        """Annotated by the list and detail (one subquery), counted for a run just created."""
        count = getattr(obj, "difference_count", None)
        return obj.differences.count() if count is None else count

    @extend_schema_field(serializers.URLField())
    def get_differences_url(self, obj) -> str:
        return reverse("reconciliation-differences", args=[obj.pk], request=self.context.get("request"))


class ReconciliationCreateSerializer(serializers.Serializer):
    connection = ScopedConnectionField(help_text="Connection id")
    period = PeriodField()
    confirm_cost = serializers.BooleanField(
        default=False, help_text="Required true where the vendor bills read-back requests (see /estimate)")


class EstimateQuerySerializer(serializers.Serializer):
    connection = ScopedConnectionField(help_text="Connection id")
    period = PeriodField()


class EstimateSerializer(serializers.Serializer):
    reads_back = serializers.BooleanField()
    documents = serializers.IntegerField(help_text="Exported documents of the month")
    requests_estimate = serializers.IntegerField()
    request_budget = serializers.IntegerField(allow_null=True, help_text="The vendor's monthly request budget")
    needs_confirmation = serializers.BooleanField()


class DifferenceSerializer(serializers.ModelSerializer):
    expected = MinorUnitField(allow_null=True, help_text="Ours (gross); null when we hold nothing")
    actual = MinorUnitField(allow_null=True, help_text="The vendor's (gross); null when it holds nothing")
    call_log_key = serializers.SerializerMethodField(help_text="The record's idempotency key: its calls in the call log")
    receipts = serializers.SerializerMethodField(help_text="Receipt ids of the source expense")

    class Meta:
        model = ReconciliationDifference
        fields = ["id", "kind", "currency", "reference", "external_id", "record", "source_kind", "source_id",
                  "expected", "actual", "detail", "explanation", "explained_by_label", "explained_at",
                  "call_log_key", "receipts"]
        read_only_fields = fields

    def get_call_log_key(self, obj) -> str:
        return str(obj.record.idempotency_key) if obj.record_id else ""

    def get_receipts(self, obj) -> list[int]:
        expense = obj.record.expense if obj.record_id else None
        return [r.pk for r in expense.receipts.all()] if expense else []


class ExplainSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="Why this difference is expected")
