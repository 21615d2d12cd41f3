"""A member of organisation A sees nothing of organisation B, anywhere.

Parametrised over the admin registry and the API router, so every app that registers a model
is covered the moment it does; a model without an isolation factory fails here on purpose.
"""

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

import expensico_sync.urls  # noqa: F401  (fills the router)
from expensico_sync.core.admin.scoping import OrgScopedAdminMixin
from expensico_sync.core.api.router import router
from expensico_sync.core.roles import Role
from expensico_sync.core.services import api_key_create
from tests.core.factories import make_member, make_org
from tests.registry import load_all

FACTORIES = load_all()
SCOPED = sorted(
    ((m, a) for m, a in admin.site._registry.items() if isinstance(a, OrgScopedAdminMixin)),
    key=lambda pair: pair[0]._meta.label,
)
UNSCOPED = sorted(
    (m for m, a in admin.site._registry.items() if not isinstance(a, OrgScopedAdminMixin)),
    key=lambda m: m._meta.label,
)
VIEWSETS = sorted(router.registry, key=lambda r: r[2])


def _org_of(model_admin, obj):
    return model_admin._object_org_id(obj)


@pytest.fixture
def two_orgs(db):
    org_a, org_b = make_org("alpha"), make_org("bravo")
    alice = make_member(org_a, Role.OWNER, "alice")
    return org_a, org_b, alice


def _make(model, org):
    if model not in FACTORIES:
        pytest.fail(f"{model._meta.label} is exposed but has no isolation factory "
                    f"(add one in tests/<package>/factories.py)")
    return FACTORIES[model](org)


@pytest.mark.parametrize(("model", "model_admin"), SCOPED, ids=lambda v: getattr(v, "_meta", None) and v._meta.label)
def test_admin_changelist_and_change_view_hide_other_organisations(client, two_orgs, model, model_admin):
    org_a, org_b, alice = two_orgs
    mine, theirs = _make(model, org_a), _make(model, org_b)
    client.force_login(alice)
    opts = model._meta
    response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 200
    shown = list(response.context["cl"].queryset)
    assert theirs not in shown
    assert mine in shown
    assert {model_admin._object_org_id(o) for o in shown} <= {org_a.pk}
    response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[theirs.pk]))
    assert response.status_code in (302, 403, 404)
    if response.status_code == 302:
        assert "/change/" not in response["Location"]


@pytest.mark.parametrize("model", UNSCOPED, ids=lambda m: m._meta.label)
def test_unscoped_admins_are_for_operators_only(client, two_orgs, model):
    _, _, alice = two_orgs
    client.force_login(alice)
    opts = model._meta
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    except NoReverseMatch:
        pytest.fail(f"{opts.label} is registered without a changelist")
    assert client.get(url).status_code == 403


@pytest.mark.parametrize(("prefix", "viewset", "basename"), VIEWSETS, ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("as_key", [False, True], ids=["session", "api-key"])
def test_api_list_and_detail_hide_other_organisations(client, two_orgs, prefix, viewset, basename, as_key):
    org_a, org_b, alice = two_orgs
    model = viewset.queryset.model
    mine, theirs = _make(model, org_a), _make(model, org_b)
    headers = {}
    if as_key:
        _, key = api_key_create(organization=org_a, role=Role.OWNER, name="iso-test")
        headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    else:
        client.force_login(alice)
    response = client.get(reverse(f"{basename}-list"), **headers)
    assert response.status_code == 200, response.content
    body = response.json()
    ids = [row.get("id") for row in body.get("results", body)]
    assert theirs.pk not in ids
    assert mine.pk in ids
    response = client.get(reverse(f"{basename}-detail", args=[theirs.pk]), **headers)
    assert response.status_code == 404
    assert response.json()["type"] == "client_error"


def test_every_exposed_model_is_covered():
    """Guards the guard: the parametrisation really found the core models."""
    labels = {m._meta.label for m, _ in SCOPED}
    assert {"core.Organization", "core.Membership", "core.OrganizationAPIKey"} <= labels
    assert any(basename == "organization" for _, _, basename in VIEWSETS)
