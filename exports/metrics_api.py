"""/api/v1/metrics: the value metrics per organisation for a month (?period=YYYY-MM, default this month).

Served from the stored computation (refreshed every few minutes in the background, or on POST
…/refresh), with its `as_of` time: nothing is computed over all rows per request."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from expensico_sync.core.api.router import router
from expensico_sync.core.api.scoping import OrgScopedViewSetMixin
from expensico_sync.core.models import Organization

from .metrics import Period
from .snapshots.services import snapshot_payloads, snapshot_read, snapshot_request

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
    as_of = serializers.DateTimeField(allow_null=True, help_text="When these figures were computed; null (and "
                                      "the figures null) until the first background computation is done")
    systems = serializers.DictField(child=SystemMetricsSerializer(), allow_null=True)
    exceptions = ExceptionMetricsSerializer(many=True, allow_null=True)
    time_saved = TimeSavedSerializer(allow_null=True)
    vendor_requests = RequestMetricsSerializer(many=True, allow_null=True)


class RefreshSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    period = serializers.CharField()
    as_of = serializers.DateTimeField(allow_null=True)
    refresh_requested_at = serializers.DateTimeField(allow_null=True)


def _figures(organization, period: Period, snapshot) -> dict:
    empty = {"systems": None, "exceptions": None, "time_saved": None, "vendor_requests": None}
    return {**empty, **(snapshot.payload or {}), "id": organization.pk, "organization": organization.slug,
            "period": f"{period.start:%Y-%m}", "as_of": snapshot.computed_at}


class MetricsViewSet(OrgScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    queryset = Organization.objects.order_by("slug")
    org_path = None
    serializer_class = MetricsSerializer
    capability = "exports.run"          # POST …/refresh: owners and finance admins; everyone reads

    def _period(self) -> Period:
        try:
            return Period.parse(self.request.query_params.get("period"), timezone.localdate())
        except ValueError as exc:
            raise ValidationError({"period": [str(exc)]}) from None

    @extend_schema(summary="Value metrics of each organisation you can see, for one month", parameters=[PERIOD])
    def list(self, request, *args, **kwargs):
        period = self._period()
        page = list(self.paginate_queryset(self.get_queryset()) or [])
        stored = snapshot_payloads(kind="metrics", organizations=page, period=period.start)
        rows = [_figures(o, period, stored[o.pk]) for o in page]
        return self.get_paginated_response(MetricsSerializer(rows, many=True).data)

    @extend_schema(summary="Value metrics of one organisation for one month", parameters=[PERIOD])
    def retrieve(self, request, *args, **kwargs):
        organization, period = self.get_object(), self._period()
        snapshot = snapshot_read(kind="metrics", organization=organization, period=period.start)
        return Response(MetricsSerializer(_figures(organization, period, snapshot)).data)

    @extend_schema(summary="Compute one organisation's metrics for the month again, in the background (finance_admin)",
                   description="Queues one recomputation (at most one a minute per organisation and month); "
                               "the figures change once `as_of` moves past `refresh_requested_at`.",
                   parameters=[PERIOD], request=None, responses={202: RefreshSerializer})
    @action(detail=True, methods=["post"])
    def refresh(self, request, *args, **kwargs):
        organization, period = self.get_object(), self._period()
        snapshot = snapshot_request(kind="metrics", organization=organization, period=period.start)
        return Response(RefreshSerializer({"id": organization.pk, "period": f"{period.start:%Y-%m}",
                                           "as_of": snapshot.computed_at,
                                           "refresh_requested_at": snapshot.requested_at}).data,
                        status=status.HTTP_202_ACCEPTED)


router.register("metrics", MetricsViewSet, basename="metrics")
