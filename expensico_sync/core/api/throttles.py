from rest_framework.throttling import SimpleRateThrottle

from ..models import OrganizationAPIKey


class PrincipalRateThrottle(SimpleRateThrottle):
    """One bucket per API key (by prefix), per user, or per client address."""

    scope = "principal"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, OrganizationAPIKey):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
