"""`Authorization: Api-Key <key>` for machine clients.

djangorestframework-api-key only ships a permission; this turns a valid key into a DRF
principal so throttling, scoping and role checks treat keys and people alike.
"""

from django.utils.functional import cached_property
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from ..models import OrganizationAPIKey

KEYWORD = "Api-Key"


class APIKeyPrincipal:
    """Stands in for request.user when a key authenticated the request."""

    is_authenticated = True
    is_anonymous = False
    is_superuser = False
    is_staff = False
    is_active = True

    def __init__(self, api_key: OrganizationAPIKey):
        self.api_key = api_key
        self.pk = None

    @cached_property
    def username(self):
        return f"api-key:{self.api_key.prefix}"

    def __str__(self):
        return self.username


class OrganizationAPIKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith(f"{KEYWORD} "):
            return None
        key = header[len(KEYWORD) + 1:].strip()
        try:
            api_key = OrganizationAPIKey.objects.get_from_key(key)
        except OrganizationAPIKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        return APIKeyPrincipal(api_key), api_key

    def authenticate_header(self, request):
        return KEYWORD


def principal_of(request):
    """The API key if one authenticated the request, else the user."""
    if isinstance(getattr(request, "auth", None), OrganizationAPIKey):
        return request.auth
    return request.user



class OrganizationAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "expensico_sync.core.api.authentication.OrganizationAPIKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Api-Key <key>` as printed by `create_api_key`."}
