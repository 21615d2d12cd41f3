"""Roles and the permission matrix: the one place that says who may do what."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    FINANCE_ADMIN = "finance_admin", _("Finance admin")
    REVIEWER = "reviewer", _("Reviewer")
    VIEWER = "viewer", _("Viewer")


ALL = frozenset(Role)

# capability -> roles that hold it. Admin classes and API views name one capability for their
# writes; reading needs only membership ("view").
MATRIX: dict[str, frozenset[Role]] = {
    "view": ALL,
    "organization.manage": frozenset({Role.OWNER}),
    "members.manage": frozenset({Role.OWNER}),
    "api_keys.manage": frozenset({Role.OWNER}),
    "connections.manage": frozenset({Role.OWNER, Role.FINANCE_ADMIN}),
    "mappings.edit": frozenset({Role.OWNER, Role.FINANCE_ADMIN}),
    "exports.run": frozenset({Role.OWNER, Role.FINANCE_ADMIN}),
    "review.work": frozenset({Role.OWNER, Role.FINANCE_ADMIN, Role.REVIEWER}),
    # Approving a held expense for export (issue 19): money leaves on this decision.
    "holds.release": frozenset({Role.OWNER, Role.FINANCE_ADMIN}),
    "source.manage": frozenset({Role.OWNER, Role.FINANCE_ADMIN}),
    "close.sign_off": frozenset({Role.OWNER, Role.FINANCE_ADMIN}),
    "close.reopen": frozenset({Role.OWNER}),
}


def role_allows(role: str | None, capability: str) -> bool:
    if role is None:
        return False
    try:
        return Role(role) in MATRIX[capability]
    except (KeyError, ValueError):
        return False
