"""Each vendor's declared hosts, VENDOR_HOSTS_ALLOW, and the checks at storage and at send time."""

import json
import re
import subprocess
from pathlib import Path

import pytest
import responses
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from connectors.errors import Permanent
from connectors.hosts import credential_url_check, credential_url_refusal
from connectors.models import Connection
from connectors.oauth import oauth_token_refresh
from connectors.services import connection_check, connection_create
from expensico_sync.core.models import Membership
from tests.connectors.listener import Listener

pytestmark = pytest.mark.django_db

LEGITIMATE = [
    ("wafeq", "https://api.wafeq.com/v1"),
    ("wafeq", "https://app.wafeq.com/oauth/token/"),
    ("business_central", "https://api.businesscentral.dynamics.com/v2.0/t/production/api/v2.0"),
    ("business_central", "https://login.microsoftonline.com/t"),
    ("xledger", "https://www.xledger.net/graphql"),
    ("xledger", "https://demo.xledger.net/graphql"),
    ("workday", "https://wd2-impl-services1.workday.com/ccx/service/acme/Financial_Management/v30.0"),
    ("workday", "https://services1.myworkday.com/ccx/service/acme/Financial_Management/v42.2"),
    ("apideck", "https://unify.apideck.com"),
    ("moon_erp", "https://acme.moon-erp.test"),
]
FOREIGN = [
    ("wafeq", "https://api.wafeq.com.evil.io/v1"),
    ("wafeq", "http://api.wafeq.com/v1"),                      # a vendor host, but in clear text
    ("wafeq", "https://api.wafeq.com@evil.io/v1"),             # user info: which host is it?
    ("wafeq", "https://evil.io\\@api.wafeq.com/v1"),
    ("business_central", "https://businesscentral.dynamics.com.evil.io/"),
    ("workday", "https://evilworkday.com/ccx/service/acme"),
    ("apideck", "https://api.wafeq.com"),                      # another vendor's host
    ("xledger", "http://127.0.0.1:8812/graphql"),              # loopback, not allowed here
    ("moon_erp", "ftp://acme.moon-erp.test"),
]


@pytest.fixture
def no_allow(settings):
    settings.VENDOR_HOSTS_ALLOW = []


@pytest.fixture
def manager(org):
    user = get_user_model().objects.create_user("fin", "fin@example.com", "pw-123456789")
    Membership.objects.create(user=user, organization=org, role="finance_admin")
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(("system", "url"), LEGITIMATE)
def test_vendor_hosts_need_no_allow_list(no_allow, system, url):
    assert credential_url_refusal(system=system, url=url) is None


@pytest.mark.parametrize(("system", "url"), FOREIGN)
def test_other_hosts_are_refused(no_allow, system, url):
    assert credential_url_refusal(system=system, url=url)
    with pytest.raises(Permanent) as refused:
        credential_url_check(system=system, url=url)
    assert refused.value.code == "host_not_allowed" and refused.value.field == "base_url"


def test_allow_list_names_hosts_and_addresses(settings):
    settings.VENDOR_HOSTS_ALLOW = ["127.0.0.1", "sandbox.internal"]
    assert credential_url_refusal(system="xledger", url="http://127.0.0.1:8812/graphql") is None
    assert credential_url_refusal(system="xledger", url="http://sandbox.internal:8812/graphql") is None
    assert credential_url_refusal(system="xledger", url="http://localhost:8812/graphql")


def test_api_accepts_a_vendor_host_without_the_allow_list(no_allow, manager, org):
    created = manager.post("/api/v1/connections/", {"organization": org.pk, "system": "wafeq", "name": "Wafeq",
                                                     "base_url": "https://api.wafeq.com/v1", "api_key": "k"},
                           format="json")
    assert created.status_code == 201, created.content


@pytest.mark.parametrize("url", ["https://collector.evil.io/v1", "http://127.0.0.1:9/v1"])
def test_api_refuses_other_hosts_naming_base_url(no_allow, manager, org, url):
    created = manager.post("/api/v1/connections/", {"organization": org.pk, "system": "wafeq", "name": "Wafeq",
                                                     "base_url": url, "api_key": "k"}, format="json")
    assert created.status_code == 400
    assert [e["attr"] for e in created.json()["errors"]] == ["base_url"]
    conn = Connection.objects.create(organization=org, system="wafeq", name="w", base_url="https://api.wafeq.com/v1",
                                     api_key="k")
    moved = manager.patch(f"/api/v1/connections/{conn.pk}/", {"base_url": url}, format="json")
    assert moved.status_code == 400 and [e["attr"] for e in moved.json()["errors"]] == ["base_url"]
    assert Connection.objects.get(pk=conn.pk).base_url == "https://api.wafeq.com/v1"


def test_service_refuses_other_hosts(no_allow, org):
    with pytest.raises(Permanent, match="base_url"):
        connection_create(organization=org, system="wafeq", name="w", base_url="https://evil.io/v1", api_key="k")
    with pytest.raises(Permanent, match="settings"):
        connection_create(organization=org, system="business_central", name="bc", client_secret="s",
                          base_url="https://api.businesscentral.dynamics.com/v2.0/t/production/api/v2.0",
                          settings={"authority_host": "https://login.evil.io"})


def test_http_stack_refuses_a_foreign_host_that_got_stored(no_allow, org, listener):
    conn = Connection.objects.create(organization=org, system="wafeq", name="w", base_url="https://api.wafeq.com/v1",
                                     api_key="wafeq-SECRET")
    Connection.objects.filter(pk=conn.pk).update(base_url=f"{listener.url}/v1")   # no model, no validation
    result = connection_check(connection=Connection.objects.get(pk=conn.pk))
    assert not result.ok and "VENDOR_HOSTS_ALLOW" in result.detail
    assert listener.requests == []


def test_a_redirect_to_a_foreign_host_is_not_followed(settings, org):
    """Workday sends its password in the body, which requests re-sends on a 307 to any host."""
    settings.VENDOR_HOSTS_ALLOW = ["127.0.0.1"]
    target = Listener(host="localhost").start()
    first = Listener().start()
    try:
        first.answers = {"/ccx/service/acme/Financial_Management/v30.0": (307, {"Location": f"{target.url}/steal"}, {})}
        conn = Connection.objects.create(
            organization=org, system="workday", name="wd", client_id="isu", api_key="workday-SECRET-password",
            settings={"company": "ACME"},
            base_url=f"{first.url}/ccx/service/acme/Financial_Management/v30.0")
        result = connection_check(connection=conn)
    finally:
        target.stop()
        first.stop()
    assert len(first.requests) >= 1, "the allowed host was asked"
    assert target.requests == [] and not result.ok and "localhost" in result.detail


@responses.activate
def test_msal_discovery_cannot_send_the_secret_elsewhere(no_allow, org):
    authority = "https://login.microsoftonline.com/tenant-x"
    responses.get(f"{authority}/v2.0/.well-known/openid-configuration", json={
        "token_endpoint": "https://collector.evil.io/token", "authorization_endpoint": f"{authority}/authorize",
        "issuer": f"{authority}/v2.0"})
    stolen = responses.post("https://collector.evil.io/token", json={"access_token": "t", "expires_in": 3600})
    conn = Connection.objects.create(
        organization=org, system="business_central", name="bc", auth_method="client_credentials",
        base_url="https://api.businesscentral.dynamics.com/v2.0/tenant-x/production/api/v2.0",
        client_id="app", client_secret="bc-SECRET")
    result = connection_check(connection=conn)
    assert not result.ok
    assert stolen.call_count == 0


@responses.activate
def test_oauth_token_url_is_checked_before_a_refresh(no_allow, org):
    stolen = responses.post("https://collector.evil.io/token", json={"access_token": "t", "expires_in": 3600})
    conn = Connection.objects.create(organization=org, system="wafeq", name="w", base_url="https://api.wafeq.com/v1",
                                     auth_method="oauth2", client_id="c", client_secret="wafeq-SECRET",
                                     access_token="a", refresh_token="wafeq-SECRET-refresh")
    Connection.objects.filter(pk=conn.pk).update(settings={"oauth_token_url": "https://collector.evil.io/token"})
    with pytest.raises(Permanent, match="oauth_token_url|collector.evil.io"):
        oauth_token_refresh(connection=Connection.objects.get(pk=conn.pk), rejected_token="a")
    assert stolen.call_count == 0


def test_oauth_start_accepts_only_our_callback(manager, org):
    conn = Connection.objects.create(organization=org, system="wafeq", name="o", base_url="https://api.wafeq.com/v1",
                                     auth_method="oauth2", client_id="c", client_secret="s")
    url = f"/api/v1/connections/{conn.pk}/oauth-start/"
    refused = manager.post(url, {"redirect_uri": "https://collector.evil.io/cb"}, format="json")
    assert refused.status_code == 400 and [e["attr"] for e in refused.json()["errors"]] == ["redirect_uri"]
    callback = "http://testserver" + reverse("admin:connectors_connection_oauth_callback")
    for body in ({"redirect_uri": callback}, {}):
        started = manager.post(url, body, format="json")
        assert started.status_code == 201, started.content
        sent = re.search(r"redirect_uri=([^&]+)", started.json()["authorize_url"]).group(1)
        assert json.loads(json.dumps(sent)) and "collector" not in sent and "testserver" in sent


def test_make_run_allows_the_loopback_sandboxes():
    plan = subprocess.run(["make", "-n", "run"], cwd=Path(__file__).resolve().parents[2], capture_output=True,
                          text=True, check=True).stdout
    devstack = next(line for line in plan.splitlines() if "manage.py devstack" in line)
    assert "VENDOR_HOSTS_ALLOW=${VENDOR_HOSTS_ALLOW-127.0.0.1,localhost}" in devstack


def test_oauth_start_refuses_a_foreign_host_that_got_stored(no_allow, manager, org):
    conn = Connection.objects.create(organization=org, system="wafeq", name="o", base_url="https://api.wafeq.com/v1",
                                     auth_method="oauth2", client_id="c", client_secret="s")
    Connection.objects.filter(pk=conn.pk).update(base_url="https://collector.evil.io/v1")
    refused = manager.post(f"/api/v1/connections/{conn.pk}/oauth-start/", {}, format="json")
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "host_not_allowed"
