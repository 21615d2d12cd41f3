"""Base classes for organisation-scoped API views. Every app's viewsets start here."""

from rest_framework import viewsets

from .authentication import visible_org_ids


class OrgScopedViewSetMixin:
    """Set `org_path` (lookup to Organization; None for Organization itself) and `capability`."""

    org_path: str | None = "organization"
    capability: str | None = None

    def get_queryset(self):
        qs = super().get_queryset()
        ids = visible_org_ids(self.request)
        if ids is None:
            return qs
        if self.org_path is None:
            return qs.filter(pk__in=sorted(ids))
        return qs.filter(**{f"{self.org_path}__in": sorted(ids)})


class OrgScopedReadOnlyViewSet(OrgScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class OrgScopedModelViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    pass
