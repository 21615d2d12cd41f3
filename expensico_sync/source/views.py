from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from expensico_sync.core.models import Organization

from .intake import webhook_receive_stream


class RawJSONParser(BaseParser):
    """Declares JSON for the schema; the view reads the raw body itself (the signature covers it)."""

    media_type = "application/json"


class WebhookView(APIView):
    # The Standard Webhooks signature is the authentication; no session, no CSRF, no API key.
    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [RawJSONParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "webhooks"

    @extend_schema(
        operation_id="expensico_webhook_receive",
        summary="Receive a signed Expensico webhook (Standard Webhooks v1)",
        request=OpenApiTypes.OBJECT,
        parameters=[OpenApiParameter(h, str, OpenApiParameter.HEADER, required=True)
                    for h in ("webhook-id", "webhook-timestamp", "webhook-signature")],
        responses={202: OpenApiResponse(description='{"status": "accepted"}'),
                   200: OpenApiResponse(description='{"status": "duplicate"}'),
                   400: OpenApiResponse(description="Schema error naming the field"),
                   401: OpenApiResponse(description="Bad or missing signature, stale timestamp, or unknown "
                                                    "organisation (indistinguishable)")},
        tags=["expensico"],
    )
    def post(self, request, organization_slug: str):
        organization = Organization.objects.filter(slug=organization_slug).first()
        result = webhook_receive_stream(organization=organization, stream=request._request, headers=request.headers)
        return Response(result.body, status=result.status)
