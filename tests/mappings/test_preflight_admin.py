"""The mapping screens warn, before saving, what the worker's pre-flight would hold a document
for: an inactive or non-posting account, an unknown tax code, an inactive dimension value —
read from the cached vendor metadata, with no vendor call."""

import pytest
from django.urls import reverse
from django.utils import timezone

from connectors.models import CallLog, VendorMetadataCache
from connectors.preflight import MetaAccount, MetaValue, VendorMetadata
from mappings.models import CategoryMapping, DimensionMapping, TaxMapping


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def cached(connection):
    meta = VendorMetadata(
        accounts={"acc_travel": MetaAccount("acc_travel", "6100 Travel", "EXPENSE"),
                  "acc_old": MetaAccount("acc_old", "6190 Old travel", "EXPENSE", active=False),
                  "acc_head": MetaAccount("acc_head", "6000 Expenses", "EXPENSE", postable=False)},
        dimensions={"cc_1": MetaValue("cc_1", "cost_center", "CC1 Finance"),
                    "cc_2": MetaValue("cc_2", "cost_center", "CC2 Closed", active=False)},
        tax_rates={"tax_15": MetaValue("tax_15", "", "VAT 15%")})
    VendorMetadataCache.objects.create(connection=connection, data=meta.to_json(), fetched_at=timezone.now())
    return meta


def _add(client, model, data):
    return client.post(reverse(f"admin:mappings_{model}_add"), data)


def test_an_inactive_account_is_refused_before_saving_with_the_fix(logged_in, connection, cached):
    response = _add(logged_in, "categorymapping", {"connection": connection.pk, "category_code": "TRAVEL",
                                                   "account": "acc_old"})
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "inactive" in form.errors["account"][0] and "reactivate" in form.errors["account"][0]
    assert not CategoryMapping.objects.exists()
    assert not CallLog.objects.exists()            # the cached metadata, never the vendor


def test_a_heading_account_is_refused_as_not_postable(logged_in, connection, cached):
    response = _add(logged_in, "categorymapping", {"connection": connection.pk, "category_code": "TRAVEL",
                                                   "account": "acc_head"})
    assert "does not take postings" in response.context["adminform"].form.errors["account"][0]


def test_an_active_account_saves(logged_in, connection, cached):
    response = _add(logged_in, "categorymapping", {"connection": connection.pk, "category_code": "TRAVEL",
                                                   "account": "acc_travel"})
    assert response.status_code == 302
    assert CategoryMapping.objects.get().account == "acc_travel"


def test_an_unknown_tax_code_and_an_inactive_dimension_value_are_refused(logged_in, connection, cached):
    response = _add(logged_in, "taxmapping", {"connection": connection.pk, "tax_code": "VAT15", "tax_rate": "tax_5",
                                              "treatment": "as_document"})
    assert "not in" in response.context["adminform"].form.errors["tax_rate"][0]
    response = _add(logged_in, "dimensionmapping", {"connection": connection.pk, "dimension_key": "cost_center",
                                                    "value": "CC-2", "remote_id": "cc_2"})
    assert "inactive" in response.context["adminform"].form.errors["remote_id"][0]
    assert not TaxMapping.objects.exists() and not DimensionMapping.objects.exists()
