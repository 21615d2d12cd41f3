"""`/api/v1/connections/`: create, check, catalog, configure (seed 000 as an API)."""

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.response import Response

from expensico_sync.core.api.authentication import principal_of
from expensico_sync.core.api.router import router
from expensico_sync.core.api.schema import error_response
from expensico_sync.core.api.scoping import OrgScopedModelViewSet
from expensico_sync.core.selectors import organizations_with_capability

from .base import AccountPurpose, CatalogKind
from .errors import AuthExpired, ConnectorError, Permanent, UnexpectedAnswer
from .models import Connection
from .oauth import oauth_authorization_start
from .selectors import connection_catalog_cached
from .serializers import (
    ActivateSerializer,
    ActivationPreviewSerializer,
    CatalogItemSerializer,
    CatalogQuerySerializer,
    CheckResultSerializer,
    ConfigureSerializer,
    ConnectionSerializer,
    OAuthStartResultSerializer,
    OAuthStartSerializer,
)
from .services import (
    connection_activate,
    connection_catalog_fetch,
    connection_check,
    connection_configure,
    connection_create,
)
from .setup_steps import activation_preview

PURPOSE_FOR = {"employee_claims_account": AccountPurpose.EMPLOYEE_CLAIMS,
               "employees_balance_account": AccountPurpose.EMPLOYEES_BALANCE,
               "funding_bank_account": AccountPurpose.FUNDING_BANK}


class VendorError(APIException):
    """A refusal the caller can act on (credentials, a rejected value) is a 409; a vendor that is
    down or answers outside its contract is a 502."""

    status_code = 502
    default_code = "vendor_error"
    error_type = "vendor_error"

    def __init__(self, exc: ConnectorError):
        code = "auth_expired" if isinstance(exc, AuthExpired) else getattr(exc, "code", "vendor_error")
        super().__init__(detail=f"{type(exc).__name__}: {exc.message}", code=code)
        if isinstance(exc, (AuthExpired, Permanent)) and not isinstance(exc, UnexpectedAnswer):
            self.status_code = 409


VENDOR_ERRORS = {409: error_response("The accounting system refused: credentials (`auth_expired`) or a value"),
                 502: error_response("The accounting system is unreachable or answered outside its contract "
                                     "(`unexpected_answer` names what was missing)")}


@extend_schema_view(list=extend_schema(summary="List connections"),
                    create=extend_schema(summary="Create a connection (paste an API key, or OAuth client id/secret)"))
class ConnectionViewSet(OrgScopedModelViewSet):
    """An organisation's accounting-system connections. Secrets (`api_key`, `client_secret`) are
    write-only. The setup flow: create → (OAuth: `oauth-start`, the person consents, the admin
    callback stores the tokens) → `check` → `catalog?kind=accounts&classification=EXPENSE` →
    `configure` (chosen remote ids, or find-or-create the three Expensico accounts)."""

    queryset = Connection.objects.select_related("organization")
    serializer_class = ConnectionSerializer
    capability = "connections.manage"

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = connection_create(
            organization=data["organization"], system=data["system"], name=data["name"], base_url=data["base_url"],
            auth_method=data.get("auth_method", Connection.AuthMethod.API_KEY), api_key=data.get("api_key", ""),
            client_id=data.get("client_id", ""), client_secret=data.get("client_secret", ""),
            settings=data.get("settings"))

    @extend_schema(request=None, responses={200: CheckResultSerializer, 502: VENDOR_ERRORS[502]},
                   summary="Test the credentials against the vendor")
    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        result = connection_check(connection=self.get_object())
        # Refusals are the check's answer (ok=false); an answer outside the vendor's contract is a 502.
        if isinstance(result.error, UnexpectedAnswer):
            raise VendorError(result.error) from result.error
        return Response(CheckResultSerializer(result).data)

    @extend_schema(parameters=[CatalogQuerySerializer,
                               OpenApiParameter("X-Catalog-Source", str, OpenApiParameter.HEADER, response=True,
                                                enum=["vendor", "cache", "none"],
                                                description="vendor: fetched now; cache: the stored copy; none: "
                                                            "nothing stored yet (the list is empty)"),
                               OpenApiParameter("X-Catalog-Fetched-At", str, OpenApiParameter.HEADER, response=True,
                                                description="When the returned copy was fetched from the vendor")],
                   responses={200: CatalogItemSerializer(many=True), **VENDOR_ERRORS},
                   summary="A catalog: the stored copy, or fetched from the vendor with refresh=true (managers)")
    @action(detail=True, methods=["get"], pagination_class=None)
    def catalog(self, request, pk=None):
        query = CatalogQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        connection, kind = self.get_object(), CatalogKind(query.validated_data["kind"])
        if query.validated_data["refresh"]:
            # Readers may look; only a manager may make the service call the vendor.
            if not organizations_with_capability(principal_of(request), self.capability).filter(
                    pk=connection.organization_id).exists():
                raise PermissionDenied("Refreshing a catalog from the vendor needs the owner or finance admin role.")
            try:
                items = connection_catalog_fetch(connection=connection, kind=kind)
            except ConnectorError as exc:
                raise VendorError(exc) from exc
            source, fetched_at = "vendor", timezone.now().isoformat()
        else:
            items, fetched_at = connection_catalog_cached(connection=connection, kind=kind)
            source = "cache" if fetched_at else "none"
        wanted = query.validated_data.get("classification")
        items = [i for i in items if not wanted or i.classification == wanted]
        response = Response(CatalogItemSerializer(items, many=True).data)
        response["X-Catalog-Source"] = source
        if fetched_at:
            response["X-Catalog-Fetched-At"] = fetched_at
        return response

    @extend_schema(request=ConfigureSerializer, responses={200: ConnectionSerializer, **VENDOR_ERRORS},
                   summary="Choose or create the Employee Claims, Employees Balance and funding bank accounts")
    @action(detail=True, methods=["post"])
    def configure(self, request, pk=None):
        body = ConfigureSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        choices = {PURPOSE_FOR[k]: v for k, v in body.validated_data.items() if v}
        try:
            conn = connection_configure(connection=self.get_object(), choices=choices)
        except ConnectorError as exc:
            raise VendorError(exc) from exc
        except ValueError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from exc
        return Response(ConnectionSerializer(conn, context=self.get_serializer_context()).data)

    @extend_schema(request=OAuthStartSerializer, responses={201: OAuthStartResultSerializer},
                   summary="Start the OAuth authorization code flow (PKCE); send the person to authorize_url")
    @action(detail=True, methods=["post"], url_path="oauth-start")
    def oauth_start(self, request, pk=None):
        callback = request.build_absolute_uri(reverse("admin:connectors_connection_oauth_callback"))
        body = OAuthStartSerializer(data=request.data, context={"callback": callback})
        body.is_valid(raise_exception=True)
        try:
            url = oauth_authorization_start(connection=self.get_object(), redirect_uri=callback)
        except ConnectorError as exc:   # e.g. the stored URL's host is no longer allowed
            raise VendorError(exc) from exc
        return Response({"authorize_url": url}, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[ActivateSerializer], responses={200: ActivationPreviewSerializer},
                   summary="Dry run of activation: how many documents it would export and how many would be held",
                   description="The same numbers as the admin's activation page. Nothing is changed.")
    @action(detail=True, methods=["get"], url_path="activation-preview")
    def activation_preview(self, request, pk=None):
        query = ActivateSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        export_from = query.validated_data["export_from"]
        preview = activation_preview(self.get_object(), export_from)
        return Response(ActivationPreviewSerializer({"export_from": export_from, "export": preview.export,
                                                     "held": preview.held, "detail": preview.detail}).data)

    @extend_schema(request=ActivateSerializer, responses={200: ConnectionSerializer},
                   summary="Activate the connection: documents dated from export_from on are exported",
                   description="Owner or finance admin. A new connection starts inactive; activating books the "
                               "documents already received from `export_from` on (a sync run that looks each one "
                               "up at the vendor first). 400 when already active or not connected yet.")
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        body = ActivateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            conn = connection_activate(connection=self.get_object(), export_from=body.validated_data["export_from"])
        except ValueError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from exc
        return Response(ConnectionSerializer(conn, context=self.get_serializer_context()).data)


router.register("connections", ConnectionViewSet, basename="connection")
