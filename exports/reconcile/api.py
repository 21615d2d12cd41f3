"""/api/v1/reconciliations: list, run (finance_admin), rows, differences and their explanation."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from expensico_sync.core.api.authentication import principal_of
from expensico_sync.core.api.router import router
from expensico_sync.core.api.scoping import OrgScopedViewSetMixin

from . import serializers as s
from .models import Reconciliation
from .run import ReconcileError, cost_estimate, difference_explain, reconciliation_create
from .selectors import with_difference_counts


def _bad(exc: ReconcileError) -> ValidationError:
    return ValidationError({exc.field: [str(exc)]}, code=exc.code)


@extend_schema_view(
    list=extend_schema(summary="List reconciliations", description="Filters: connection, period (YYYY-MM-01), "
                       "status. Newest first."),
    retrieve=extend_schema(summary="A reconciliation with its rows"),
    create=extend_schema(summary="Reconcile a connection's month (runs in the background)",
                         request=s.ReconciliationCreateSerializer, responses={201: s.ReconciliationSerializer}),
)
class ReconciliationViewSet(OrgScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            viewsets.GenericViewSet):
    queryset = Reconciliation.objects.prefetch_related("rows").order_by("-id")
    serializer_class = s.ReconciliationSerializer
    filterset_fields = ["connection", "period", "status"]
    org_path = "organization"
    capability = "exports.run"

    def get_queryset(self):
        return with_difference_counts(super().get_queryset())

    def create(self, request):
        body = s.ReconciliationCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        user = request.user if getattr(request.user, "pk", None) else None
        try:
            run = reconciliation_create(user=user, by_label=str(principal_of(request)), **body.validated_data)
        except ReconcileError as exc:
            raise _bad(exc) from exc
        return Response(s.ReconciliationSerializer(run, context={"request": request}).data, status=201)

    @extend_schema(summary="What a run would cost at the vendor (shown before a run that spends a budget)",
                   parameters=[OpenApiParameter("connection", int, required=True),
                               OpenApiParameter("period", str, required=True, description="YYYY-MM")],
                   responses=s.EstimateSerializer)
    @action(detail=False, methods=["get"])
    def estimate(self, request):
        query = s.EstimateQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        return Response(cost_estimate(**query.validated_data))

    @extend_schema(summary="The documents behind a reconciliation's differences", responses=s.DifferenceSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="differences", url_name="differences")
    def differences(self, request, pk=None):
        run = self.get_object()
        qs = run.differences.select_related("record__expense").prefetch_related("record__expense__receipts").order_by("-id")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.DifferenceSerializer(page, many=True).data)

    @extend_schema(summary="Explain a difference with a note (who and when are recorded)",
                   request=s.ExplainSerializer, responses=s.DifferenceSerializer)
    @action(detail=True, methods=["post"], url_path=r"differences/(?P<difference_id>\d+)/explain",
            url_name="explain")
    def explain(self, request, pk=None, difference_id=None):
        run = self.get_object()
        difference = get_object_or_404(run.differences.all(), pk=difference_id)
        body = s.ExplainSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            difference = difference_explain(difference=difference, note=body.validated_data["note"],
                                            by=request.user if getattr(request.user, "pk", None) else principal_of(request))
        except ReconcileError as exc:
            raise _bad(exc) from exc
        return Response(s.DifferenceSerializer(difference).data)


router.register("reconciliations", ReconciliationViewSet, basename="reconciliation")
