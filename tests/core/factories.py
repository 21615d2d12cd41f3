import itertools

from django.contrib.auth import get_user_model

from expensico_sync.core.models import Membership, Organization, OrganizationAPIKey
from expensico_sync.core.roles import Role
from expensico_sync.core.services import membership_grant
from tests.registry import isolation_factory

_seq = itertools.count(1)


def make_org(slug=None, **kw) -> Organization:
    n = next(_seq)
    slug = slug or f"org-{n}"
    defaults = {"name": f"Org {slug}", "base_currency": "SAR", "country": "SA"}
    return Organization.objects.create(slug=slug, **{**defaults, **kw})


def make_user(username=None, password="pw-Correct-horse-9", **kw):
    n = next(_seq)
    username = username or f"user{n}"
    user = get_user_model().objects.create_user(username=username, email=f"{username}@example.com",
                                                password=password, **kw)
    return user


def make_member(org, role=Role.OWNER, username=None):
    user = make_user(username)
    membership_grant(user=user, organization=org, role=role)
    user.refresh_from_db()
    return user


@isolation_factory(Organization)
def _org(org):
    return org


@isolation_factory(Membership)
def _membership(org):
    return Membership.objects.create(user=make_user(), organization=org, role=Role.VIEWER)


@isolation_factory(OrganizationAPIKey)
def _api_key(org):
    api_key, _ = OrganizationAPIKey.objects.create_key(organization=org, role=Role.VIEWER, name="iso")
    return api_key
