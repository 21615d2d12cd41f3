"""REST API for mappings: CRUD per kind, the cached catalog, and per-set gaps, templates, revert."""

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from connectors.models import Connection
from expensico_sync.core.api.authentication import principal_of
from expensico_sync.core.api.router import router
from expensico_sync.core.api.schema import ErrorSerializer
from expensico_sync.core.api.scoping import OrgScopedModelViewSet, OrgScopedReadOnlyViewSet
from expensico_sync.core.selectors import organizations_with_capability

from .dashboard import cached_gaps
from .history import mapping_revert, mapping_set_history, mapping_set_revert
from .models import MAPPING_MODELS, CategoriserModel, MappingSet, RemoteCatalogItem
from .resources import COLUMNS
from .selectors import mapping_snapshot
from .set_templates import CONTENT_TYPES, FORMATS, mapping_set_export, mapping_set_import
from .training import categoriser_rollback

# --- per-kind CRUD --------------------------------------------------------------------------------


class MappingSerializerBase(serializers.ModelSerializer):
    connection = serializers.PrimaryKeyRelatedField(queryset=Connection.objects.all())
    organization = serializers.PrimaryKeyRelatedField(read_only=True)

    def validate_connection(self, connection):
        principal = principal_of(self.context["request"])
        if not organizations_with_capability(principal, "mappings.edit").filter(pk=connection.organization_id).exists():
            # Same answer as for a connection that does not exist: don't reveal other organisations.
            raise ValidationError(f'Invalid pk "{connection.pk}" - object does not exist.', code="does_not_exist")
        if self.instance is not None and connection.pk != self.instance.connection_id:
            raise ValidationError("A mapping stays in its connection; clone or import to copy it.", code="immutable")
        return connection

    def validate(self, attrs):
        instance = self.Meta.model(**{**({f: getattr(self.instance, f) for f in COLUMNS[self.Meta.model.KIND]}
                                         if self.instance else {}), **attrs})
        if self.instance is not None:
            instance.pk = self.instance.pk
        try:
            instance.clean()
            instance.validate_constraints()  # one currency policy per connection, natural keys
        except Exception as exc:  # Django ValidationError -> DRF, keeping the field names
            detail = getattr(exc, "message_dict", None) or {"non_field_errors": getattr(exc, "messages", [str(exc)])}
            raise ValidationError(detail) from None
        return attrs


def _serializer(model):
    meta = type("Meta", (), {"model": model, "fields": ["id", "organization", "connection", *COLUMNS[model.KIND],
                                                         "updated_at"],
                             "read_only_fields": ["id", "organization", "updated_at"]})
    return type(f"{model.__name__}Serializer", (MappingSerializerBase,), {"Meta": meta})


SERIALIZERS = {m.KIND: _serializer(m) for m in MAPPING_MODELS}
ROUTES = {"category": "category-mappings", "tax": "tax-mappings", "currency": "currency-policies",
          "rate": "exchange-rates", "dimension": "dimension-mappings", "merchant": "merchant-rules",
          "hold": "hold-rules", "rule": "coding-rules"}
FILTERS = {"category": ["category_code", "funding_source", "expense_type"], "tax": ["tax_code"], "currency": [],
           "rate": ["currency"], "dimension": ["dimension_key", "value"], "merchant": ["merchant"],
           "hold": ["active"], "rule": ["active"]}


def _viewset(model):
    label = model._meta.verbose_name_plural

    @extend_schema_view(
        list=extend_schema(summary=f"List {label}", tags=["mappings"]),
        retrieve=extend_schema(summary=f"One of the {label}", tags=["mappings"]),
        create=extend_schema(summary=f"Create one of the {label}", tags=["mappings"]),
        update=extend_schema(summary=f"Replace one of the {label}", tags=["mappings"]),
        partial_update=extend_schema(summary=f"Change one of the {label}", tags=["mappings"]),
        destroy=extend_schema(summary=f"Delete one of the {label}", tags=["mappings"]),
    )
    class ViewSet(OrgScopedModelViewSet):
        queryset = model.objects.select_related("connection").order_by("id")
        serializer_class = SERIALIZERS[model.KIND]
        org_path = "organization"
        capability = "mappings.edit"
        filterset_fields = ["connection", *FILTERS[model.KIND]]

    ViewSet.__name__ = ViewSet.__qualname__ = f"{model.__name__}ViewSet"
    return ViewSet


for _model in MAPPING_MODELS:
    router.register(ROUTES[_model.KIND], _viewset(_model), basename=f"mappings-{_model.KIND}")


# --- catalog --------------------------------------------------------------------------------------

class RemoteCatalogItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = RemoteCatalogItem
        fields = ["id", "connection", "kind", "remote_id", "name", "code", "classification", "active", "refreshed_at"]


@extend_schema_view(list=extend_schema(summary="Cached remote catalog (accounts, tax rates, dimensions, contacts)",
                                       tags=["mappings"]),
                    retrieve=extend_schema(summary="One cached catalog item", tags=["mappings"]))
class RemoteCatalogItemViewSet(OrgScopedReadOnlyViewSet):
    queryset = RemoteCatalogItem.objects.order_by("id")
    serializer_class = RemoteCatalogItemSerializer
    org_path = "organization"
    filterset_fields = ["connection", "kind", "active"]


router.register("remote-catalog", RemoteCatalogItemViewSet, basename="mappings-catalog")


# --- mapping sets ---------------------------------------------------------------------------------

class MappingSetSerializer(serializers.ModelSerializer):
    version = serializers.SerializerMethodField()

    class Meta:
        model = MappingSet
        fields = ["id", "organization", "name", "system", "version"]

    def get_version(self, obj) -> str:
        return mapping_snapshot(obj).version


class GapSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["category", "tax", "dimension", "currency", "setting"])
    key = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)
    expenses = serializers.IntegerField(help_text="Approved expenses this gap blocks")
    amounts = serializers.DictField(child=serializers.DecimalField(max_digits=20, decimal_places=3),
                                    help_text="Blocked amount per currency")
    source_ids = serializers.ListField(child=serializers.CharField(), help_text="Up to 20 blocked expense ids")


class ImportRowSerializer(serializers.Serializer):
    kind = serializers.CharField()
    where = serializers.CharField()
    action = serializers.ChoiceField(choices=["new", "update", "skip", "delete", "error"])
    key = serializers.CharField(allow_blank=True)
    errors = serializers.ListField(child=serializers.CharField())


class ImportResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    totals = serializers.DictField(child=serializers.IntegerField())
    rows = ImportRowSerializer(many=True)


class ImportRequestSerializer(serializers.Serializer):
    file_format = serializers.ChoiceField(choices=FORMATS, required=False,
                                     help_text="csv, xlsx or json (default json, or guessed from the file name)")
    dry_run = serializers.BooleanField(default=True, help_text="Preview only (default). Send false to apply.")
    file = serializers.FileField(required=False, help_text="Multipart upload of a template")
    template = serializers.DictField(required=False, help_text="A JSON template inline: {kind: [rows]}")


# A 400 is either the per-row report (rows with errors, nothing applied) or, when the request
# itself is malformed (no file, an unknown format), the API's error format.
IMPORT_REFUSED = OpenApiResponse(
    PolymorphicProxySerializer(component_name="ImportRefused", serializers=[ImportResultSerializer, ErrorSerializer],
                               resource_type_field_name=None),
    description="Rows with errors (nothing applied), or a malformed request")


class RevertRequestSerializer(serializers.Serializer):
    at = serializers.DateTimeField(required=False, help_text="Revert the whole set to this point in time")
    kind = serializers.CharField(required=False)
    history_id = serializers.IntegerField(required=False, help_text="With kind: restore one mapping's version")


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class HistoryRowSerializer(serializers.Serializer):
    kind = serializers.CharField()
    object_id = serializers.IntegerField()
    label = serializers.CharField()
    action = serializers.CharField()
    at = serializers.DateTimeField()
    user = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    history_id = serializers.IntegerField()
    changes = HistoryChangeSerializer(many=True)


def _jsonable(value):
    return value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value)


@extend_schema_view(list=extend_schema(summary="Mapping sets (one per connection)", tags=["mappings"]),
                    retrieve=extend_schema(summary="One mapping set", tags=["mappings"]))
class MappingSetViewSet(OrgScopedReadOnlyViewSet):
    queryset = MappingSet.objects.select_related("organization").order_by("id")
    serializer_class = MappingSetSerializer
    org_path = "organization"
    capability = "mappings.edit"
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def _writable(self, obj):
        principal = principal_of(self.request)
        if not organizations_with_capability(principal, "mappings.edit").filter(pk=obj.organization_id).exists():
            raise NotFound()

    @extend_schema(summary="Unmapped categories, tax codes, dimension values and settings, with what they block",
                   responses=GapSerializer(many=True), tags=["mappings"])
    @action(detail=True, methods=["get"], pagination_class=None)
    def gaps(self, request, pk=None):
        return Response(GapSerializer(cached_gaps(self.get_object()), many=True).data)

    @extend_schema(summary="Change history of the set, newest first, with field diffs",
                   responses=HistoryRowSerializer(many=True), tags=["mappings"])
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request, pk=None):
        rows = mapping_set_history(self.get_object(), limit=int(request.query_params.get("limit", 200)))
        data = [{**r.__dict__, "changes": [{"field": c.field, "old": _jsonable(c.old), "new": _jsonable(c.new)}
                                           for c in r.changes]} for r in rows]
        return Response(HistoryRowSerializer(data, many=True).data)

    @extend_schema(summary="Download the whole set as a template", tags=["mappings"],
                   parameters=[OpenApiParameter("file_format", str, enum=list(FORMATS), default="json",
                                               description="`format` is DRF's content negotiation, hence the name")],
                   responses={(200, content_type): OpenApiTypes.OBJECT if fmt == "json" else OpenApiTypes.BINARY
                              for fmt, content_type in CONTENT_TYPES.items()})
    @action(detail=True, methods=["get"], url_path="export", pagination_class=None)
    def export_template(self, request, pk=None):
        fmt = request.query_params.get("file_format", "json")
        if fmt not in FORMATS:
            raise ValidationError({"file_format": f"One of {', '.join(FORMATS)}."})
        obj = self.get_object()
        response = HttpResponse(mapping_set_export(connection=obj, fmt=fmt), content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="mappings-{obj.pk}.{fmt}"'
        return response

    @extend_schema(summary="Bulk import a template (dry run by default: creates / updates / errors per row)",
                   request={"multipart/form-data": ImportRequestSerializer, "application/json": ImportRequestSerializer},
                   responses={200: ImportResultSerializer, 400: IMPORT_REFUSED}, tags=["mappings"])
    @action(detail=True, methods=["post"], url_path="import", pagination_class=None)
    def import_template(self, request, pk=None):
        obj = self.get_object()
        self._writable(obj)
        params = ImportRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        upload = params.validated_data.get("file")
        if upload is not None:
            content = upload.read()
            fmt = params.validated_data.get("file_format") or upload.name.rsplit(".", 1)[-1].lower()
        elif "template" in request.data:
            content, fmt = json.dumps(request.data["template"]).encode(), "json"
        else:
            raise ValidationError({"file": "Send a file or a JSON template."})
        report = mapping_set_import(connection=obj, content=content, fmt=fmt,
                                    dry_run=params.validated_data["dry_run"])
        body = {"dry_run": report.dry_run, "totals": report.totals(), "rows": [r.__dict__ for r in report.rows]}
        return Response(ImportResultSerializer(body).data,
                        status=status.HTTP_400_BAD_REQUEST if report.has_errors else status.HTTP_200_OK)

    @extend_schema(summary="Revert the set to a point in time, or one mapping to a version",
                   request=RevertRequestSerializer, responses={200: OpenApiTypes.OBJECT}, tags=["mappings"])
    @action(detail=True, methods=["post"], pagination_class=None)
    def revert(self, request, pk=None):
        obj = self.get_object()
        self._writable(obj)
        params = RevertRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if data.get("history_id"):
            try:
                restored = mapping_revert(kind=data.get("kind", ""), connection=obj, history_id=data["history_id"],
                                          user=request.user)
            except (LookupError, ValueError) as exc:
                raise ValidationError({"history_id": str(exc)}) from None
            return Response({"restored": restored.pk})
        if not data.get("at"):
            raise ValidationError({"at": "Give a point in time, or kind and history_id."})
        counts = mapping_set_revert(connection=obj, at=data["at"], user=request.user)
        return Response(counts)


router.register("mapping-sets", MappingSetViewSet, basename="mappings-set")


# --- learned categoriser --------------------------------------------------------------------------

class CategoriserModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = CategoriserModel
        fields = ["id", "organization", "connection", "version", "status", "trained_at", "training_size",
                  "heldout_size", "heldout_accuracy", "coverage", "precision_at_threshold", "sklearn_version", "note"]


class TrainRequestSerializer(serializers.Serializer):
    connection = serializers.PrimaryKeyRelatedField(queryset=Connection.objects.all())


@extend_schema_view(list=extend_schema(summary="Categoriser versions per connection (accuracy, coverage, status)",
                                       tags=["mappings"]),
                    retrieve=extend_schema(summary="One categoriser version", tags=["mappings"]))
class CategoriserModelViewSet(OrgScopedReadOnlyViewSet):
    queryset = CategoriserModel.objects.defer("blob", "heldout_ids").order_by("-id")
    serializer_class = CategoriserModelSerializer
    org_path = "organization"
    capability = "mappings.edit"
    filterset_fields = ["connection", "status"]

    @extend_schema(summary="Train a new version now (a django-q2 task); it replaces the one in use only if at "
                   "least as accurate on the same held-out expenses", request=TrainRequestSerializer,
                   responses={202: OpenApiTypes.OBJECT}, tags=["mappings"])
    @action(detail=False, methods=["post"], pagination_class=None)
    def train(self, request):
        from django_q.tasks import async_task

        body = TrainRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        connection = body.validated_data["connection"]
        if not organizations_with_capability(principal_of(request), "mappings.edit").filter(
                pk=connection.organization_id).exists():
            raise ValidationError({"connection": [f'Invalid pk "{connection.pk}" - object does not exist.']})
        task_id = async_task("mappings.tasks.categoriser_train_task", connection.pk)
        return Response({"task": task_id}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="Put this version back in use (rollback)", request=None,
                   responses=CategoriserModelSerializer, tags=["mappings"])
    @action(detail=True, methods=["post"], pagination_class=None)
    def rollback(self, request, pk=None):
        model = self.get_object()
        restored = categoriser_rollback(connection=model.connection, version=model.version)
        return Response(CategoriserModelSerializer(restored).data)


router.register("categoriser-models", CategoriserModelViewSet, basename="mappings-categoriser")
