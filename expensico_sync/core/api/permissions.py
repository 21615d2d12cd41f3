from rest_framework import permissions

from ..selectors import organizations_with_capability
from .authentication import principal_of, visible_org_ids


def _object_org_id(view, obj):
    path = getattr(view, "org_path", "organization")
    if path is None:
        return obj.pk
    target = obj
    for part in path.split("__"):
        target = getattr(target, part)
    return target.pk


class HasRole(permissions.BasePermission):
    """Reads need membership; writes need the view's `capability` in the role matrix. A member's
    roles are read once per request (`visible_org_ids`), shared with the view's scoping."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        capability = "view" if request.method in permissions.SAFE_METHODS else getattr(view, "capability", None)
        if capability is None:
            return False
        ids = visible_org_ids(request, capability)
        if ids is None:   # a superuser: any organisation at all
            return organizations_with_capability(principal_of(request), capability).exists()
        return bool(ids)

    def has_object_permission(self, request, view, obj):
        org_id = _object_org_id(view, obj)
        capability = "view" if request.method in permissions.SAFE_METHODS else getattr(view, "capability", None)
        if capability is None:
            return False
        ids = visible_org_ids(request, capability)
        return ids is None or org_id in ids
