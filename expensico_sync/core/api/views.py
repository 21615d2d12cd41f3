from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Membership, Organization, OrganizationAPIKey
from ..selectors import organizations_for
from .authentication import principal_of
from .router import router
from .scoping import OrgScopedViewSetMixin
from .serializers import MeSerializer, OrganizationSerializer


def roles_by_org(principal) -> dict[int, str]:
    if isinstance(principal, OrganizationAPIKey):
        return {principal.organization_id: principal.role}
    if getattr(principal, "is_superuser", False):
        roles = dict(Membership.objects.filter(user=principal).values_list("organization_id", "role"))
        return {pk: roles.get(pk, "owner") for pk in Organization.objects.values_list("pk", flat=True)}
    return dict(Membership.objects.filter(user=principal).values_list("organization_id", "role"))


class MeView(APIView):
    """Who is calling, and what they can reach."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        principal = principal_of(request)
        roles = roles_by_org(principal)
        orgs = [{"id": o.pk, "slug": o.slug, "name": o.name, "role": roles.get(o.pk)}
                for o in organizations_for(principal)]
        if isinstance(principal, OrganizationAPIKey):
            body = {"kind": "api_key", "username": f"api-key:{principal.prefix}", "email": "",
                    "is_superuser": False, "organizations": orgs}
        else:
            body = {"kind": "user", "username": principal.username, "email": principal.email,
                    "is_superuser": principal.is_superuser, "organizations": orgs}
        return Response(MeSerializer(body).data)


class OrganizationViewSet(OrgScopedViewSetMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Organisations the caller belongs to. Owners may change mode and Expensico settings."""

    queryset = Organization.objects.all()
    serializer_class = OrganizationSerializer
    org_path = None
    capability = "organization.manage"
    http_method_names = ["get", "patch", "head", "options"]

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "roles": roles_by_org(principal_of(self.request))}


router.register("organizations", OrganizationViewSet, basename="organization")
