"""A dimension value picked from the catalog carries the kind its connector gave it, and the
mapping screen offers the kinds this connection's dimensions come in."""

from django.urls import reverse
from django.utils import timezone

from mappings.models import DimensionMapping, RemoteCatalogItem


def _catalog(connection, remote_id, classification, name):
    return RemoteCatalogItem.objects.create(connection=connection, organization=connection.organization,
                                            kind="dimensions", remote_id=remote_id, name=name,
                                            classification=classification, refreshed_at=timezone.now())


def test_a_catalog_value_takes_its_kind_and_name_from_the_catalog(connection):
    _catalog(connection, "dv-sales", "dimension:DEPARTMENT", "Sales")
    picked = DimensionMapping.objects.create(connection=connection, dimension_key="department", value="SALES",
                                             remote_id="dv-sales")
    assert (picked.remote_kind, picked.remote_name) == ("dimension:DEPARTMENT", "Sales")
    chosen = DimensionMapping.objects.create(connection=connection, dimension_key="department", value="OPS",
                                             remote_id="dv-sales", remote_kind="worktag:Cost_Center_Reference_ID",
                                             remote_name="Mine")
    assert (chosen.remote_kind, chosen.remote_name) == ("worktag:Cost_Center_Reference_ID", "Mine"), \
        "a kind a person typed wins"
    unknown = DimensionMapping.objects.create(connection=connection, dimension_key="project", value="P1",
                                              remote_id="not-in-catalog")
    assert unknown.remote_kind == ""


def test_the_form_offers_the_connections_dimension_kinds(client, owner, connection):
    _catalog(connection, "dv-sales", "dimension:DEPARTMENT", "Sales")
    _catalog(connection, "dv-ops", "dimension:DEPARTMENT", "Operations")
    _catalog(connection, "cc-1", "cost_center", "Head office")
    client.force_login(owner)
    page = client.get(reverse("admin:mappings_dimensionmapping_add") + f"?connection={connection.pk}")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'list="catalog-remote_kind"' in html
    assert '<option value="dimension:DEPARTMENT"> 2 values in the catalog</option>' in html
    assert '<option value="cost_center"> 1 value in the catalog</option>' in html
