"""Issue 14, item 1 (Expensico side): moving the pull API's base URL to another scheme, host or
port clears the stored token unless the same change supplies one, on every surface; hosts other
than Expensico's are refused unless the deployment lists them."""

import pytest
from django.core.exceptions import ValidationError

from expensico_sync.core.models import Organization
from expensico_sync.core.roles import Role
from expensico_sync.source.services import expensico_source_configure
from tests.core.factories import make_member, make_org

pytestmark = pytest.mark.django_db
BASE, TOKEN = "http://127.0.0.1:8700", "tok-stored"
MOVES = {"host": "http://localhost:8700", "port": "http://127.0.0.1:8701", "scheme": "https://127.0.0.1:8700"}


@pytest.fixture
def org():
    return make_org(expensico_api_base_url=BASE, expensico_api_token=TOKEN)


def stored(org) -> tuple[str, str]:
    fresh = Organization.objects.get(pk=org.pk)
    return fresh.expensico_api_base_url, fresh.expensico_api_token


def patch(client, org, body):
    client.force_login(make_member(org, Role.OWNER))
    return client.patch(f"/api/v1/organizations/{org.pk}/", body, content_type="application/json")


def admin_post(client, org, **fields):
    client.force_login(make_member(org, Role.OWNER))
    form = {"name": org.name, "slug": org.slug, "mode": org.mode, "base_currency": "SAR", "country": "SA",
            "timezone": "UTC", "webhook_secret": "", "webhook_secret_previous": "", "expensico_api_base_url": BASE,
            "expensico_api_token": "", "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0", **fields}
    return client.post(f"/admin/core/organization/{org.pk}/change/", form)


@pytest.mark.parametrize("moved", MOVES.values(), ids=MOVES.keys())
def test_api_move_without_the_token_clears_it(client, org, moved):
    assert patch(client, org, {"expensico_api_base_url": moved}).status_code == 200
    assert stored(org) == (moved, "")


def test_api_move_with_a_token_keeps_the_one_supplied(client, org):
    response = patch(client, org, {"expensico_api_base_url": MOVES["host"], "expensico_api_token": "tok-new"})
    assert response.status_code == 200
    assert stored(org) == (MOVES["host"], "tok-new")


def test_api_same_origin_keeps_the_token(client, org):
    assert patch(client, org, {"expensico_api_base_url": BASE + "/api/"}).status_code == 200
    assert patch(client, org, {"mode": "live"}).status_code == 200
    assert stored(org) == (BASE + "/api/", TOKEN)


@pytest.mark.parametrize("url", ["http://evil.example/v1", "http://10.0.0.7", "http://api.expensico.com",
                                 "ftp://127.0.0.1/x"])
def test_api_refuses_a_host_that_is_not_allowed_naming_the_field(client, org, settings, url):
    settings.EXPENSICO_HOSTS_ALLOW, settings.VENDOR_HOSTS_ALLOW, settings.DEBUG = [], [], True  # DEBUG implies nothing
    response = patch(client, org, {"expensico_api_base_url": url})
    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == ["expensico_api_base_url"]
    assert stored(org) == (BASE, TOKEN)


def test_api_accepts_expensicos_host_and_hosts_either_list_names(client, org, settings):
    settings.EXPENSICO_HOSTS_ALLOW, settings.VENDOR_HOSTS_ALLOW = [], ["staging.example"]
    assert patch(client, org, {"expensico_api_base_url": "https://api.expensico.com"}).status_code == 200
    assert patch(client, org, {"expensico_api_base_url": "http://staging.example:81"}).status_code == 200
    settings.EXPENSICO_HOSTS_ALLOW, settings.VENDOR_HOSTS_ALLOW = ["other.example"], []
    assert patch(client, org, {"expensico_api_base_url": "http://other.example"}).status_code == 200


def test_admin_move_with_a_blank_token_clears_it(client, org):
    assert admin_post(client, org, expensico_api_base_url=MOVES["host"]).status_code == 302
    assert stored(org) == (MOVES["host"], "")


def test_admin_move_with_a_token_keeps_it_and_same_origin_keeps_the_stored_one(client, org):
    assert admin_post(client, org, expensico_api_base_url=BASE + "/v1").status_code == 302
    assert stored(org) == (BASE + "/v1", TOKEN)
    assert admin_post(client, org, expensico_api_base_url=MOVES["port"], expensico_api_token="tok-new").status_code == 302
    assert stored(org) == (MOVES["port"], "tok-new")


def test_admin_refuses_a_host_that_is_not_allowed_with_a_form_error(client, org, settings):
    settings.EXPENSICO_HOSTS_ALLOW = []
    response = admin_post(client, org, expensico_api_base_url="http://evil.example")
    assert response.status_code == 200
    assert "expensico_api_base_url" in response.context["adminform"].form.errors
    assert stored(org) == (BASE, TOKEN)


def test_service_move_without_the_token_clears_it_and_with_one_keeps_it(org):
    expensico_source_configure(organization=Organization.objects.get(pk=org.pk), base_url=MOVES["host"])
    assert stored(org) == (MOVES["host"], "")
    expensico_source_configure(organization=Organization.objects.get(pk=org.pk), base_url=BASE, token="tok-2")
    assert stored(org) == (BASE, "tok-2")
    expensico_source_configure(organization=Organization.objects.get(pk=org.pk), base_url=BASE + "/v1/")
    assert stored(org) == (BASE + "/v1", "tok-2")


def test_service_refuses_a_host_that_is_not_allowed(org, settings):
    settings.EXPENSICO_HOSTS_ALLOW = []
    with pytest.raises(ValidationError) as refused:
        expensico_source_configure(organization=org, base_url="http://evil.example", token="x")
    assert "expensico_api_base_url" in refused.value.message_dict
    assert stored(org) == (BASE, TOKEN)


def test_model_save_clears_on_any_path(org):
    """Plain save, save(update_fields=...) and a row loaded with the URL deferred."""
    one = Organization.objects.get(pk=org.pk)
    one.expensico_api_base_url = MOVES["scheme"]
    one.save()
    assert stored(org) == (MOVES["scheme"], "") and one.expensico_api_token == ""

    Organization.objects.filter(pk=org.pk).update(expensico_api_base_url=BASE)
    two = Organization.objects.get(pk=org.pk)
    two.expensico_api_token = TOKEN
    two.save()
    two = Organization.objects.get(pk=org.pk)
    two.expensico_api_base_url = MOVES["port"]
    two.save(update_fields=["expensico_api_base_url"])
    assert stored(org) == (MOVES["port"], "")

    three = Organization.objects.get(pk=org.pk)
    three.expensico_api_token = TOKEN
    three.save()
    deferred = Organization.objects.only("id", "name").get(pk=org.pk)
    deferred.expensico_api_base_url = MOVES["host"]
    deferred.save()
    assert stored(org) == (MOVES["host"], "")


def test_model_keeps_a_token_assigned_with_the_move_even_if_unchanged(org):
    """Supplying the same token again with the move is a deliberate choice, not a leftover."""
    one = Organization.objects.get(pk=org.pk)
    one.expensico_api_base_url, one.expensico_api_token = MOVES["host"], TOKEN
    one.save()
    assert stored(org) == (MOVES["host"], TOKEN)
