"""Base classes for organisation-scoped API views. Every app's viewsets start here."""

from rest_framework import viewsets

from ..selectors import organization_ids_for
from .authentication import principal_of


class OrgScopedViewSetMixin:
    """Set `org_path` (lookup to Organization; None for Organization itself) and `capability`."""

    org_path: str | None = "organization"
    capability: str | None = None

    def get_queryset(self):
        qs = super().get_queryset()
        principal = principal_of(self.request)
        if getattr(principal, "is_superuser", False):
            return qs
        ids = organization_ids_for(principal)
        if self.org_path is None:
            return qs.filter(pk__in=ids)
        return qs.filter(**{f"{self.org_path}__in": ids})


class OrgScopedReadOnlyViewSet(OrgScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class OrgScopedModelViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    pass
