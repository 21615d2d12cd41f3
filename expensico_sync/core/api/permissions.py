from rest_framework import permissions

from ..selectors import organization_ids_for, organizations_with_capability
from .authentication import principal_of


def _object_org_id(view, obj):
    path = getattr(view, "org_path", "organization")
    if path is None:
        return obj.pk
    target = obj
    for part in path.split("__"):
        target = getattr(target, part)
    return target.pk


class HasRole(permissions.BasePermission):
    """Reads need membership; writes need the view's `capability` in the role matrix."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        principal = principal_of(request)
        capability = "view" if request.method in permissions.SAFE_METHODS else getattr(view, "capability", None)
        if capability is None:
            return False
        return organizations_with_capability(principal, capability).exists()

    def has_object_permission(self, request, view, obj):
        principal = principal_of(request)
        org_id = _object_org_id(view, obj)
        if request.method in permissions.SAFE_METHODS:
            return getattr(principal, "is_superuser", False) or org_id in organization_ids_for(principal)
        capability = getattr(view, "capability", None)
        return capability is not None and organizations_with_capability(principal, capability).filter(
            pk=org_id).exists()
