"""Who may see which organisations: the only place access scope is computed."""

from dataclasses import dataclass, field

from django.db.models import QuerySet

from .models import Membership, Organization, OrganizationAPIKey
from .roles import role_allows


def organizations_for(principal) -> QuerySet[Organization]:
    """Organisations a user or API key may see. Superusers see all."""
    if isinstance(principal, OrganizationAPIKey):
        return Organization.objects.filter(pk=principal.organization_id)
    if principal is None or not getattr(principal, "is_authenticated", False):
        return Organization.objects.none()
    if principal.is_superuser:
        return Organization.objects.all()
    return Organization.objects.filter(memberships__user=principal).distinct()


def organization_ids_for(principal) -> list[int]:
    return list(organizations_for(principal).values_list("pk", flat=True))


def organizations_with_capability(principal, capability: str) -> QuerySet[Organization]:
    if isinstance(principal, OrganizationAPIKey):
        if role_allows(principal.role, capability):
            return Organization.objects.filter(pk=principal.organization_id)
        return Organization.objects.none()
    if principal is None or not getattr(principal, "is_authenticated", False):
        return Organization.objects.none()
    if principal.is_superuser:
        return Organization.objects.all()
    roles = [r for r in Membership._meta.get_field("role").choices if role_allows(r[0], capability)]
    return Organization.objects.filter(
        memberships__user=principal, memberships__role__in=[r[0] for r in roles]
    ).distinct()


def has_capability(principal, capability: str, organization_id: int | None = None) -> bool:
    qs = organizations_with_capability(principal, capability)
    if organization_id is not None:
        qs = qs.filter(pk=organization_id)
    return qs.exists()


@dataclass(frozen=True)
class Access:
    """A user's role per organisation, from one query; superusers need none."""

    user_id: int | None
    roles: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, user) -> "Access":
        if user is None or not getattr(user, "is_authenticated", False) or user.is_superuser:
            return cls(getattr(user, "pk", None))
        return cls(user.pk, dict(Membership.objects.filter(user=user).values_list("organization_id", "role")))

    @property
    def org_ids(self) -> frozenset[int]:
        return frozenset(self.roles)

    def org_ids_with(self, capability: str) -> frozenset[int]:
        return frozenset(org for org, role in self.roles.items() if role_allows(role, capability))
