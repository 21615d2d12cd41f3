"""/api/v1/closes: a month's checklist and sign-off, reopen, and the evidence pack (zip).

Viewers read (and download a built pack), finance admins sign off and build the pack, owners
reopen. Thin: parse, call one service, render."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from connectors.models import Connection
from expensico_sync.core.api.authentication import principal_of
from expensico_sync.core.api.router import router
from expensico_sync.core.api.schema import error_response
from expensico_sync.core.api.scoping import OrgScopedViewSetMixin
from expensico_sync.core.models import Organization
from expensico_sync.core.selectors import organizations_with_capability

from ..models import MonthClose
from .models import EvidencePack
from .packs import evidence_response, pack_abandoned, pack_latest, pack_request, pack_servable
from .services import CloseError, checklist_live, month_close_reopen, month_close_sign_off, period_parse


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The month is not in a state that allows this."
    default_code = "conflict"


CONNECTION = OpenApiParameter("connection", int, description="Connection id; optional when the organisation has "
                                                             "exactly one")


def _refused(exc: CloseError):
    if exc.code.startswith("not_") or exc.code == "checklist_incomplete":
        return Conflict(str(exc), code=exc.code)
    return ValidationError({exc.field: [str(exc)]}, code=exc.code)


class ChecklistRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    ok = serializers.BooleanField()
    summary = serializers.CharField()
    count = serializers.IntegerField()
    url = serializers.CharField(allow_blank=True)
    details = serializers.ListField(child=serializers.CharField())


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$", "example": "2026-11"})
class MonthField(serializers.Field):
    """A month as YYYY-MM (stored as its first day)."""

    def to_representation(self, value):
        return f"{value:%Y-%m}"


class MonthCloseSerializer(serializers.ModelSerializer):
    period = MonthField(read_only=True)
    signed_off_by = serializers.CharField(source="signed_off_by_label", read_only=True)
    reopened_by: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    checklist = serializers.SerializerMethodField()
    checklist_as_of = serializers.SerializerMethodField()

    class Meta:
        model = MonthClose
        fields = ["id", "organization", "period", "status", "checklist", "checklist_as_of", "signed_off_by",
                  "signed_off_at", "comment", "reopened_by", "reopened_at", "reopen_reason", "created_at",
                  "updated_at"]
        read_only_fields = fields

    def _live(self, close):
        if close.locked or not self.context.get("live_checklist"):
            return None
        if not hasattr(close, "_live_checklist"):
            close._live_checklist = checklist_live(organization=close.organization, period=close.period)
        return close._live_checklist

    def to_representation(self, instance):
        """The month as it stands: an open month (never signed, or reopened) shows no sign-off. A
        reopened month's earlier sign-off is history (the admin's history, the evidence pack's
        checklist.json), not its current state."""
        data = super().to_representation(instance)
        if not instance.locked:
            data.update(signed_off_by="", signed_off_at=None, comment="")
        return data

    @extend_schema_field(ChecklistRowSerializer(many=True))
    def get_checklist(self, close) -> list[dict]:
        """As signed when the month is signed off; while it is open, as of `checklist_as_of` (computed in
        the background every few minutes; empty until the first computation is done). The list leaves
        an open month's checklist out (empty): read the month itself for it."""
        if close.locked:
            return close.checklist
        live = self._live(close)
        return (live.payload or []) if live is not None else []

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_checklist_as_of(self, close):
        """When the checklist shown was computed: the sign-off time for a signed month; for an open month
        the last background computation (null while the first is still queued, and in the list)."""
        if close.locked:
            return serializers.DateTimeField().to_representation(close.signed_off_at) if close.signed_off_at else None
        live = self._live(close)
        if live is None or live.computed_at is None:
            return None
        return serializers.DateTimeField().to_representation(live.computed_at)


class EvidencePackSerializer(serializers.ModelSerializer):
    period = MonthField(read_only=True)

    class Meta:
        model = EvidencePack
        fields = ["id", "connection", "period", "status", "progress", "rows_total", "rows_done", "size", "sha256",
                  "requested_at", "started_at", "built_at", "error"]
        read_only_fields = fields


class SignOffSerializer(serializers.Serializer):
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.none(),
                                                      help_text="Organisation id")
    period = serializers.CharField(help_text="The month to sign off, YYYY-MM")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:   # the schema generator builds it without one
            self.fields["organization"].queryset = organizations_with_capability(principal_of(request),
                                                                                 "close.sign_off")

    def validate_period(self, value):
        try:
            return period_parse(value)
        except CloseError as exc:
            raise serializers.ValidationError(str(exc), code="invalid_period") from exc


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000, help_text="Why the month is reopened (required)")


@extend_schema_view(
    list=extend_schema(summary="Month closes with their status and signed checklist",
                       parameters=[OpenApiParameter("period", str, description="YYYY-MM")]),
    retrieve=extend_schema(summary="A month close with its checklist (live while open, as signed once signed off)"),
)
class MonthCloseViewSet(OrgScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    queryset = MonthClose.objects.select_related("organization", "reopened_by").order_by("-period", "id")
    serializer_class = MonthCloseSerializer
    filterset_fields = ["status", "organization"]
    org_path = "organization"

    @property
    def capability(self):
        return "close.reopen" if getattr(self, "action", None) == "reopen" else "close.sign_off"

    def get_queryset(self):
        qs = super().get_queryset()
        period = self.request.query_params.get("period") if self.action == "list" else None
        if period:
            try:
                qs = qs.filter(period=period_parse(period))
            except CloseError as exc:
                raise ValidationError({"period": [str(exc)]}, code="invalid_period") from exc
        return qs

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "live_checklist": self.action != "list"}

    @extend_schema(summary="Sign a month off (finance_admin): the checklist must be all ok; the month is then locked",
                   request=SignOffSerializer,
                   responses={201: MonthCloseSerializer,
                              409: error_response("Already signed off (`not_open`) or the checklist is not complete "
                                                  "(`checklist_incomplete`)")})
    def create(self, request):
        body = SignOffSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        try:
            close = month_close_sign_off(by=principal_of(request), **body.validated_data)
        except CloseError as exc:
            raise _refused(exc) from exc
        return Response(MonthCloseSerializer(close).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Reopen a signed-off month (owner only, with a reason)", request=ReopenSerializer,
                   responses={200: MonthCloseSerializer, 409: error_response("Not signed off (`not_signed_off`)")})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        close = self.get_object()
        body = ReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            close = month_close_reopen(close=close, by=principal_of(request), **body.validated_data)
        except CloseError as exc:
            raise _refused(exc) from exc
        return Response(MonthCloseSerializer(close).data)

    @extend_schema(methods=["GET"], summary="The evidence pack of this month for one connection (zip with manifest.json)",
                   description="Reads only, never builds: 200 with the zip when a pack built after the month's "
                               "last sign-off or reopening is ready; 202 with the build's status (and progress) "
                               "while one is queued or building; 409 otherwise. Building is a POST (finance_admin).",
                   parameters=[CONNECTION],
                   responses={(200, "application/zip"): OpenApiTypes.BINARY,
                              202: EvidencePackSerializer,
                              400: error_response("`connection` missing or not of this organisation"),
                              409: error_response("The last build failed (`evidence_failed`), or no pack is built for "
                                                  "the month as it stands (`evidence_not_built`): POST to build")})
    @extend_schema(methods=["POST"], summary="Build this month's evidence pack again (finance_admin)", request=None,
                   description="Queues a build (or returns the one under way) and answers 202 with its status; "
                               "GET the same URL for the zip once `status` is `ready`.",
                   parameters=[CONNECTION], responses={202: EvidencePackSerializer,
                                                       400: error_response("`connection` missing or not of this "
                                                                           "organisation")})
    @action(detail=True, methods=["get", "post"])
    def evidence(self, request, pk=None):
        close = self.get_object()
        connection = _connection_of(close, request.query_params.get("connection"))
        if request.method == "POST":   # HasRole: a POST needs close.sign_off (this view's capability)
            pack = pack_request(connection=connection, period=close.period, by=principal_of(request))
            return Response(EvidencePackSerializer(pack).data, status=status.HTTP_202_ACCEPTED)
        # A GET reads and never queues: a build costs minutes of a worker, and any member may GET.
        pack = pack_latest(connection=connection, period=close.period)
        if pack_servable(pack):
            return evidence_response(pack)
        if pack is not None and pack.status in EvidencePack.ACTIVE and not pack_abandoned(pack):
            return Response(EvidencePackSerializer(pack).data, status=status.HTTP_202_ACCEPTED)
        if pack is not None and pack.status == EvidencePack.Status.FAILED:
            raise Conflict(f"the last build failed: {pack.error}; POST to build again", code="evidence_failed")
        raise Conflict("no evidence pack is built for this month as it stands (none yet, or older than its last "
                       "sign-off or reopening): a finance admin POSTs to build it", code="evidence_not_built")


def _connection_of(close: MonthClose, value) -> Connection:
    """One query: the organisation's only connection, or the one named."""
    connections = Connection.objects.filter(organization_id=close.organization_id).select_related("organization")
    if value in (None, ""):
        found = list(connections[:2])
        if len(found) == 1:
            return found[0]
        raise ValidationError({"connection": ["this organisation has several connections: name one"]},
                              code="required")
    named = connections.filter(pk=int(value)).first() if str(value).isdecimal() else None
    if named is None:
        raise ValidationError({"connection": [f"no connection {value!r} in this organisation"]}, code="invalid")
    return named


router.register("closes", MonthCloseViewSet, basename="month-close")
