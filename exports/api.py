"""/api/v1/accounting-exports, /api/v1/sync-runs, /api/v1/review-items. Thin: parse, call one
service, render. Scoping and roles come from the core base classes."""

import django_filters
from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from expensico_sync.core.api.authentication import principal_of
from expensico_sync.core.api.router import router
from expensico_sync.core.api.schema import error_response
from expensico_sync.core.api.scoping import OrgScopedViewSetMixin
from mappings.models import CodingRule

from . import serializers as s
from .errors import Refused
from .messages import said
from .models import ExportRecord, Kind, ReviewItem, SyncRun
from .services import actions as export_services
from .services import review as review_services
from .services.coding import rule_apply, rule_test, suggestion_answer
from .services.holds import hold_release
from .services.sync import sync_run_create, sync_run_live
from .transitions import Status


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record is not in a state that allows this."
    default_code = "conflict"


def _refused(exc: Refused):
    """Service refusals in the Foundation's error format: illegal or stale moves are conflicts."""
    code = exc.code
    if code in ("unknown_expense",):
        return NotFound(str(exc), code=code)
    if code == "forbidden":
        return PermissionDenied(str(exc), code=code)
    if code.startswith("not_") or code in ("source_changed", "illegal_transition", "stale"):
        return Conflict(str(exc), code=code)
    return DRFValidationError({"non_field_errors": [str(exc)]}, code=code)


REFUSALS = Refused
CONFLICT = error_response("The record's state does not allow this (`illegal_transition`, `stale`, `not_…`)")
FORBIDDEN = error_response("Your role may not do this")


class ExportRecordFilter(django_filters.FilterSet):
    # distinct=False: a plain `IN (…)` on one table never duplicates rows, and django-filter's
    # default DISTINCT made PostgreSQL sort every match (spilling to disk) before the page.
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    kind = django_filters.MultipleChoiceFilter(choices=Kind.choices, distinct=False)
    date_from = django_filters.DateFilter(field_name="document_date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="document_date", lookup_expr="lte")
    employee = django_filters.CharFilter(field_name="employee__expensico_id", help_text="Expensico employee id")
    reference = django_filters.CharFilter()
    source_id = django_filters.CharFilter()
    document_number = django_filters.CharFilter(field_name="vendor_document_number", lookup_expr="iexact",
                                                help_text="The vendor's document number, exactly")
    document_number_prefix = django_filters.CharFilter(field_name="vendor_document_number", lookup_expr="istartswith",
                                                       help_text="The vendor's document number, starting with")

    class Meta:
        model = ExportRecord
        fields = ["status", "kind", "connection", "date_from", "date_to", "employee", "reference", "source_id",
                  "document_number", "document_number_prefix"]


@extend_schema_view(
    list=extend_schema(summary="List export records", description="Filters: status, kind, connection, date range "
                       "(document date), employee (Expensico id). Cursor-paginated, newest first."),
    retrieve=extend_schema(summary="Export status, external reference and attempts",
                           responses=s.ExportRecordDetailSerializer),
    create=extend_schema(summary="Export one approved expense to a connection", request=s.ExportRequestSerializer,
                         responses={201: s.ExportRecordSerializer, 200: s.ExportRecordSerializer,
                                    404: error_response("No such approved expense (`unknown_expense`)"),
                                    409: CONFLICT}),
    update=extend_schema(summary="Vendor callback: set the outcome (exported or needs_review)",
                         description="Only `exported` (with the vendor's external_id) and `needs_review`, and only "
                         "along the transition table; anything else is a 409.",
                         request=s.CallbackSerializer, responses={200: s.ExportRecordSerializer, 409: CONFLICT}),
    destroy=extend_schema(summary="Cancel a pending export job",
                          responses={200: s.ExportRecordSerializer, 409: CONFLICT}),
)
class ExportRecordViewSet(OrgScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    queryset = ExportRecord.objects.select_related("employee").order_by("-id")
    serializer_class = s.ExportRecordSerializer
    filterset_class = ExportRecordFilter
    org_path = "organization"
    capability = "exports.run"
    http_method_names = ["get", "post", "put", "delete", "head", "options"]
    throttle_scope = None  # the batch action sets "batch"

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "retrieve":
            qs = qs.prefetch_related("export_attempts")
        return qs

    def get_serializer_class(self):
        return s.ExportRecordDetailSerializer if self.action == "retrieve" else s.ExportRecordSerializer

    def create(self, request):
        body = s.ExportRequestSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        started = timezone.now()
        try:
            record = export_services.export_expense(expense_id=body.validated_data["expense_id"],
                                                    target=body.validated_data["connection"])
        except REFUSALS as exc:
            raise _refused(exc) from exc
        return Response(s.ExportRecordSerializer(record).data,
                        status=status.HTTP_201_CREATED if record.created_at >= started else status.HTTP_200_OK)

    def update(self, request, pk=None):
        record = self.get_object()
        body = s.CallbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            record = export_services.record_apply_callback(record=record, **body.validated_data)
        except REFUSALS as exc:
            raise _refused(exc) from exc
        return Response(s.ExportRecordSerializer(record).data)

    def destroy(self, request, pk=None):
        record = self.get_object()
        try:
            record = export_services.record_cancel(record=record, reason=said("cancelled_via_api", who=principal_of(request)),
                                                   by=principal_of(request))
        except REFUSALS as exc:
            raise _refused(exc) from exc
        return Response(s.ExportRecordSerializer(record).data)

    @extend_schema(summary="The exact vendor payload this record would be sent as (nothing is sent)",
                   description="Built now from the source document and the current mapping, through the "
                   "connector's own schema: what `push` would send. `ok` is false, with the review reason, "
                   "when the record cannot be mapped yet.",
                   responses=s.PreviewSerializer)
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        return Response(export_services.record_preview(record=self.get_object()))

    @extend_schema(summary="Send an organisation's failed exports again now",
                   description="Re-queues the records parked in review for a reason a retry may fix "
                   "(remote errors, retries exhausted, auth, validation, mapping gaps, import failures) and "
                   "those waiting to retry. Needs the role that runs exports in that organisation.",
                   request=s.RetryFailedRequestSerializer, responses=s.RetryFailedResponseSerializer)
    @action(detail=False, methods=["post"], url_path="retry-failed")
    def retry_failed(self, request):
        body = s.RetryFailedRequestSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        organization = body.validated_data["organization"]
        user = request.user if getattr(request.user, "pk", None) else None
        count = export_services.retry_failed_exports(organization_id=organization.pk, by=user)
        return Response({"organization": organization.pk, "retried": count})

    @extend_schema(summary="Export several approved expenses; one result per item",
                   request=s.BatchRequestSerializer, responses=s.BatchResponseSerializer)
    @action(detail=False, methods=["post"], throttle_scope="batch")
    def batch(self, request):
        body = s.BatchRequestSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        results = export_services.batch_export(expense_ids=body.validated_data["expense_ids"],
                                               target=body.validated_data["connection"])
        return Response({"results": results})


@extend_schema_view(
    list=extend_schema(summary="List sync runs (historical / manual syncs)"),
    retrieve=extend_schema(summary="A sync run with its progress and counts"),
    create=extend_schema(summary="Start a historical sync for a date range and connection"),
)
class SyncRunViewSet(OrgScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = SyncRun.objects.all().order_by("-id")
    serializer_class = s.SyncRunSerializer
    filterset_fields = ["status", "connection"]
    org_path = "organization"
    capability = "exports.run"

    def retrieve(self, request, *args, **kwargs):
        run = sync_run_live(sync_run=self.get_object())
        return Response(self.get_serializer(run).data)

    def perform_create(self, serializer):
        user = self.request.user if getattr(self.request.user, "pk", None) else None
        try:
            serializer.instance = sync_run_create(user=user, **serializer.validated_data)
        except ValueError as exc:
            raise DRFValidationError({"connection" if "not active" in str(exc) else "date_to": [str(exc)]}) from exc


class ReviewItemFilter(django_filters.FilterSet):
    open = django_filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull")
    reason = django_filters.MultipleChoiceFilter(choices=ReviewItem.Reason.choices, distinct=False)
    severity = django_filters.MultipleChoiceFilter(choices=ReviewItem.Severity.choices, distinct=False)
    owner = django_filters.CharFilter(field_name="owner__username")

    class Meta:
        model = ReviewItem
        fields = ["open", "reason", "severity", "owner", "record"]


@extend_schema_view(list=extend_schema(summary="The review queue"), retrieve=extend_schema(summary="A review item"))
class ReviewItemViewSet(OrgScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = ReviewItem.objects.select_related("record", "owner").order_by("-id")
    serializer_class = s.ReviewItemSerializer
    filterset_class = ReviewItemFilter
    org_path = "organization"
    capability = "review.work"

    def _done(self, item):
        item.refresh_from_db()
        return Response(s.ReviewItemSerializer(item).data)

    @extend_schema(summary="Assign an owner", request=s.AssignSerializer, responses=s.ReviewItemSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        item = self.get_object()
        body = s.AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        owner = None
        if body.validated_data["owner"]:
            owner = get_user_model().objects.filter(
                username=body.validated_data["owner"], memberships__organization=item.organization_id).first()
            if owner is None:
                raise DRFValidationError({"owner": ["No member of this organisation has that username."]},
                                         code="unknown_owner")
        review_services.review_item_assign(item=item, owner=owner)
        return self._done(item)

    @extend_schema(summary="Resolve: retried, fixed_mapping, booked_manually (with external_reference), "
                   "skipped (with a note); a vendor warning (record exported) only acknowledged",
                   description="A vendor warning sits on a booked record: only `acknowledged` resolves it, and "
                   "`acknowledged` resolves nothing else; a mismatch is a 409 (`not_parked` / `not_a_warning`).",
                   request=s.ResolveSerializer, responses={200: s.ReviewItemSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        item = self.get_object()
        body = s.ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            review_services.review_item_resolve(item=item, by=principal_of(request), **body.validated_data)
        except REFUSALS as exc:
            raise _refused(exc) from exc
        return self._done(item)

    @extend_schema(summary="Approve a held record for export (roles with holds.release); above the "
                   "organisation's two-person amount the first approval waits for a second, different person",
                   request=s.ReleaseSerializer, responses={200: s.HoldReleaseSerializer, 403: FORBIDDEN,
                                                            409: CONFLICT})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        item = self.get_object()
        body = s.ReleaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            approval = hold_release(item=item, by=principal_of(request), note=body.validated_data["note"])
        except REFUSALS as exc:
            raise _refused(exc) from exc
        approval.review_item.refresh_from_db()
        return Response(s.HoldReleaseSerializer(approval).data)

    @extend_schema(summary="Accept (no account) or correct (an account) a suggested coding; the record goes again",
                   request=s.SuggestionAnswerSerializer, responses={200: s.ReviewItemSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path="answer-suggestion")
    def answer_suggestion(self, request, pk=None):
        item = self.get_object()
        body = s.SuggestionAnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            suggestion_answer(item=item, by=principal_of(request), **body.validated_data)
        except REFUSALS as exc:
            raise _refused(exc) from exc
        return self._done(item)

    @extend_schema(summary="Retry the record now", request=None, responses={200: s.ReviewItemSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        item = self.get_object()
        try:
            review_services.review_item_resolve(item=item, resolution=ReviewItem.Resolution.RETRIED,
                                                by=principal_of(request))
        except REFUSALS as exc:
            raise _refused(exc) from exc
        return self._done(item)


@extend_schema_view(list=extend_schema(summary="Coding rules that can be tested (id, name, connection)"),
                    retrieve=extend_schema(summary="Test a coding rule: the booked and pending expenses it changes",
                                           responses=s.RuleEffectSerializer))
class CodingRuleEffectViewSet(OrgScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                              viewsets.GenericViewSet):
    """A coding rule (as saved, active or not) against this connection's expenses."""

    queryset = CodingRule.objects.select_related("connection__organization").order_by("id")
    serializer_class = s.TestableRuleSerializer
    filterset_fields = ["connection", "active"]
    org_path = "organization"
    capability = "mappings.edit"

    def retrieve(self, request, *args, **kwargs):
        return Response(s.RuleEffectSerializer(rule_test(rule=self.get_object())).data)

    @extend_schema(summary="Apply a coding rule: turn it on and re-code the pending expenses it changes "
                   "(never exported ones). Send the pending_count you confirmed.",
                   request=s.RuleApplySerializer, responses={200: s.RuleApplyResultSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        rule = self.get_object()
        body = s.RuleApplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        effect = rule_test(rule=rule)
        if effect["pending_count"] != body.validated_data["confirm_count"]:
            raise Conflict(f"the rule now changes {effect['pending_count']} pending expenses, not "
                           f"{body.validated_data['confirm_count']}: test it again", code="not_confirmed")
        user = request.user if getattr(request.user, "pk", None) else None
        return Response(s.RuleApplyResultSerializer(rule_apply(rule=rule, by=user, effect=effect)).data)


router.register("coding-rule-effects", CodingRuleEffectViewSet, basename="coding-rule-effect")
router.register("accounting-exports", ExportRecordViewSet, basename="accounting-export")
router.register("sync-runs", SyncRunViewSet, basename="sync-run")
router.register("review-items", ReviewItemViewSet, basename="review-item")

from . import metrics_api as _metrics_api  # noqa: E402, F401  (registers /metrics on the same router)
from .anomalies import api as _anomalies_api  # noqa: E402, F401  (/anomalies and /anomaly-settings)
from .close import api as _close_api  # noqa: E402, F401  (registers /closes on the same router)

# Reconciliations register on the same router (exports/reconcile/api.py).
from .reconcile import api as _reconcile_api  # noqa: E402, F401
