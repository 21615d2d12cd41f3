"""`Authorization: Api-Key <key>` for machine clients.

djangorestframework-api-key only ships a permission; this turns a valid key into an
authenticated request whose user is the key's login-less service user (so audit history names
the key) and whose `auth` is the key (so scoping and roles come from the key, not the user).
"""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from ..models import OrganizationAPIKey
from ..roles import role_allows
from ..selectors import Access

KEYWORD = "Api-Key"
USED_EVERY = timedelta(hours=1)


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
        _mark_used(api_key.service_user)
        return api_key.service_user, api_key

    def authenticate_header(self, request):
        return KEYWORD


def _mark_used(user) -> None:
    """The key's last use, for access reviews: its service user's last_login, written at most hourly."""
    now = timezone.now()
    if user is not None and (user.last_login is None or now - user.last_login > USED_EVERY):
        type(user).objects.filter(pk=user.pk).update(last_login=now)
        user.last_login = now


def principal_of(request):
    """The API key if one authenticated the request, else the user."""
    if isinstance(getattr(request, "auth", None), OrganizationAPIKey):
        return request.auth
    return request.user


def visible_org_ids(request, capability: str | None = None) -> frozenset[int] | None:
    """The organisations the request's principal may see (or, with `capability`, act on); None for a
    superuser (all of them). A user's memberships are read once per request (the permission check,
    the list's scoping and the object check share them); an API key names its organisation."""
    principal = principal_of(request)
    if isinstance(principal, OrganizationAPIKey):
        allowed = capability is None or role_allows(principal.role, capability)
        return frozenset([principal.organization_id]) if allowed else frozenset()
    if getattr(principal, "is_superuser", False):
        return None
    raw = getattr(request, "_request", request)   # DRF's request wraps Django's: one Access per HTTP request
    access = getattr(raw, "_api_access", None)
    if access is None or access.user_id != getattr(principal, "pk", None):
        access = raw._api_access = Access.of(principal)
    return access.org_ids if capability is None else access.org_ids_with(capability)


class OrganizationAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "expensico_sync.core.api.authentication.OrganizationAPIKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Api-Key <key>` as printed by `create_api_key`."}
