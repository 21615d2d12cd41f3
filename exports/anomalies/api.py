"""/api/v1/anomalies (list, dismiss with a reason, confirm) and /api/v1/anomaly-settings (each
detector's switch and threshold per organisation). Thin: parse, call one service, render."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from expensico_sync.core.api.authentication import principal_of
from expensico_sync.core.api.router import router
from expensico_sync.core.api.scoping import OrgScopedViewSetMixin
from expensico_sync.core.models import Organization
from expensico_sync.core.selectors import organizations_with_capability

from ..errors import Refused
from .detectors import DETECTORS
from .models import AnomalyFlag, AnomalySetting
from .services import anomaly_confirm, anomaly_dismiss, anomaly_setting_save
from .sync import SYNC_DETECTORS


class AnomalyFlagSerializer(serializers.ModelSerializer):
    expense = serializers.CharField(source="expense.expensico_id", read_only=True)

    class Meta:
        model = AnomalyFlag
        fields = ("id", "organization", "expense", "record", "review_item", "detector", "pattern", "score",
                  "explanation", "context", "status", "reason", "decided_by_label", "decided_at", "created_at")
        read_only_fields = fields


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, default="", help_text="Required to dismiss")


class AnomalySettingSerializer(serializers.ModelSerializer):
    detector = serializers.ChoiceField(choices=[*DETECTORS, *SYNC_DETECTORS])
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    threshold = serializers.FloatField(allow_null=True, required=False, min_value=0.000001,
                                       help_text="Blank: the detector's default")
    options = serializers.DictField(required=False, help_text="Detector options, e.g. weekend_days and holidays")

    class Meta:
        model = AnomalySetting
        fields = ("id", "organization", "detector", "enabled", "threshold", "options", "updated_at")
        read_only_fields = ("id", "updated_at")


@extend_schema_view(list=extend_schema(summary="Anomaly flags on spend, newest first",
                                       description="Filters: detector, status (open, confirmed, dismissed)."),
                    retrieve=extend_schema(summary="One anomaly flag with its explanation"))
class AnomalyFlagViewSet(OrgScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = AnomalyFlag.objects.select_related("expense").order_by("-id")
    serializer_class = AnomalyFlagSerializer
    filterset_fields = ["detector", "status"]
    org_path = "organization"
    capability = "review.work"

    def _decide(self, request, service):
        flag = self.get_object()
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            service(flag=flag, by=principal_of(request), reason=body.validated_data["reason"])
        except Refused as exc:
            raise ValidationError({"reason" if exc.code == "reason_required" else "non_field_errors": [str(exc)]},
                                  code=exc.code) from exc
        flag.refresh_from_db()
        return Response(AnomalyFlagSerializer(flag).data)

    @extend_schema(summary="Dismiss a false positive with a reason: the detector does not flag this pattern again",
                   request=DecisionSerializer, responses=AnomalyFlagSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        return self._decide(request, anomaly_dismiss)

    @extend_schema(summary="Confirm a flag (seen, it is real): closes it without teaching the detector",
                   request=DecisionSerializer, responses=AnomalyFlagSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._decide(request, anomaly_confirm)


@extend_schema_view(list=extend_schema(summary="Detector switches and thresholds (absent: the defaults)"),
                    retrieve=extend_schema(summary="One detector setting"),
                    create=extend_schema(summary="Set one detector's switch, threshold and options for an "
                                                 "organisation (replaces the earlier setting)"))
class AnomalySettingViewSet(OrgScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            mixins.CreateModelMixin,
                            viewsets.GenericViewSet):
    queryset = AnomalySetting.objects.order_by("organization_id", "detector")
    serializer_class = AnomalySettingSerializer
    filterset_fields = ["organization", "detector"]
    org_path = "organization"
    capability = "exports.run"

    def create(self, request, *args, **kwargs):
        body = AnomalySettingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        allowed = organizations_with_capability(principal_of(request), self.capability)
        if not allowed.filter(pk=data["organization"].pk).exists():
            raise PermissionDenied("Your role may not change this organisation's detectors.")
        row = anomaly_setting_save(organization=data["organization"], detector=data["detector"],
                                   enabled=data["enabled"], threshold=data.get("threshold"),
                                   options=data.get("options"))
        return Response(AnomalySettingSerializer(row).data, status=201)


router.register("anomalies", AnomalyFlagViewSet, basename="anomaly")
router.register("anomaly-settings", AnomalySettingViewSet, basename="anomaly-setting")
