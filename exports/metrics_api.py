"""/api/v1/metrics: the value metrics per organisation for a month (?period=YYYY-MM, default this month)."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from expensico_sync.core.api.router import router
from expensico_sync.core.api.scoping import OrgScopedViewSetMixin
from expensico_sync.core.models import Organization

from .metrics import Period, month_metrics

PERIOD = OpenApiParameter("period", OpenApiTypes.STR, description="The month, YYYY-MM (default: this month)",
                          pattern=r"^\d{4}-(0[1-9]|1[0-2])$")


class SystemMetricsSerializer(serializers.Serializer):
    documents = serializers.IntegerField()
    exported = serializers.IntegerField()
    not_supported = serializers.IntegerField(help_text="documents the system has no API for (not failures; "
                                                       "outside `documents`)")
    sync_rate = serializers.FloatField(allow_null=True, help_text="exported ÷ documents of the month")


class ExceptionMetricsSerializer(serializers.Serializer):
    reason = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    count = serializers.IntegerField()
    resolved = serializers.IntegerField()
    median_hours_to_resolve = serializers.FloatField(allow_null=True)


class TimeSavedSerializer(serializers.Serializer):
    documents_without_a_person = serializers.IntegerField()
    minutes_per_document = serializers.CharField()
    hours = serializers.CharField()


class RequestMetricsSerializer(serializers.Serializer):
    connection = serializers.IntegerField()
    name = serializers.CharField()
    system = serializers.CharField()
    requests = serializers.IntegerField()
    included = serializers.IntegerField(allow_null=True)
    billed = serializers.IntegerField()
    cost = serializers.CharField(allow_null=True)
    currency = serializers.CharField(allow_null=True)


class MetricsSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The organisation's id")
    organization = serializers.CharField()
    period = serializers.CharField()
    systems = serializers.DictField(child=SystemMetricsSerializer())
    exceptions = ExceptionMetricsSerializer(many=True)
    time_saved = TimeSavedSerializer()
    vendor_requests = RequestMetricsSerializer(many=True)


class MetricsViewSet(OrgScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    queryset = Organization.objects.order_by("slug")
    org_path = None
    serializer_class = MetricsSerializer

    def _period(self) -> Period:
        try:
            return Period.parse(self.request.query_params.get("period"), timezone.localdate())
        except ValueError as exc:
            raise ValidationError({"period": [str(exc)]}) from None

    @extend_schema(summary="Value metrics of each organisation you can see, for one month", parameters=[PERIOD])
    def list(self, request, *args, **kwargs):
        period = self._period()
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MetricsSerializer([month_metrics(o, period) for o in page], many=True).data)

    @extend_schema(summary="Value metrics of one organisation for one month", parameters=[PERIOD])
    def retrieve(self, request, *args, **kwargs):
        return Response(MetricsSerializer(month_metrics(self.get_object(), self._period())).data)


router.register("metrics", MetricsViewSet, basename="metrics")
