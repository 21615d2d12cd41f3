import pytest
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from expensico_sync.core.roles import Role
from expensico_sync.core.services import api_key_create
from tests.core.factories import make_member, make_org

pytestmark = pytest.mark.django_db


def _key(org, role=Role.OWNER):
    return api_key_create(organization=org, role=role, name="test")[1]


def test_me_for_a_person_and_for_a_key(client):
    org = make_org("acme")
    user = make_member(org, Role.REVIEWER, "rita")
    client.force_login(user)
    body = client.get("/api/v1/me").json()
    assert body["kind"] == "user" and body["username"] == "rita"
    assert body["organizations"] == [{"id": org.pk, "slug": "acme", "name": org.name, "role": "reviewer"}]
    client.logout()
    body = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Api-Key {_key(org, Role.VIEWER)}").json()
    assert body["kind"] == "api_key"
    assert body["organizations"][0]["role"] == "viewer"


def test_401_in_the_error_format(client):
    response = client.get("/api/v1/organizations/")
    assert response.status_code in (401, 403)
    response = client.get("/api/v1/organizations/", HTTP_AUTHORIZATION="Api-Key nope.nope")
    assert response.status_code == 401
    assert response.json() == {"type": "client_error", "errors": [
        {"code": "authentication_failed", "detail": "Invalid API key.", "attr": None}]}
    assert response["WWW-Authenticate"] == "Api-Key"


def test_revoked_and_expired_keys_are_refused(client):
    from datetime import timedelta

    from django.utils import timezone

    org = make_org()
    api_key, key = api_key_create(organization=org, role=Role.OWNER, name="old")
    api_key.expiry_date = timezone.now() - timedelta(days=1)
    api_key.save()
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 401
    assert response.json()["errors"] == [
        {"code": "authentication_failed", "detail": "This API key has expired.", "attr": None}]
    api_key.expiry_date = None
    api_key.revoked = True
    api_key.save()
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 401


def test_403_when_the_role_lacks_the_capability(client):
    org = make_org()
    key = _key(org, Role.VIEWER)
    response = client.patch(f"/api/v1/organizations/{org.pk}/", {"mode": "live"},
                            content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 403
    assert response.json()["type"] == "client_error"
    assert response.json()["errors"][0]["code"] == "permission_denied"


def test_owner_key_may_change_its_organisation(client):
    org = make_org()
    response = client.patch(f"/api/v1/organizations/{org.pk}/", {"mode": "live"},
                            content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {_key(org)}")
    assert response.status_code == 200
    assert response.json()["mode"] == "live"


def test_400_names_the_field(client):
    org = make_org()
    response = client.patch(f"/api/v1/organizations/{org.pk}/", {"mode": "turbo"},
                            content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {_key(org)}")
    assert response.status_code == 400
    assert response.json() == {"type": "validation_error", "errors": [
        {"code": "invalid_choice", "detail": '"turbo" is not a valid choice.', "attr": "mode"}]}


def test_404_in_the_error_format(client):
    org = make_org()
    response = client.get("/api/v1/organizations/999999/", HTTP_AUTHORIZATION=f"Api-Key {_key(org)}")
    assert response.status_code == 404
    assert response.json() == {"type": "client_error", "errors": [
        {"code": "not_found", "detail": "No Organization matches the given query.", "attr": None}]}


def test_429_after_the_rate_and_per_key_buckets(client, monkeypatch):
    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES,
                                                               "principal": "3/min"})
    org = make_org()
    key_a, key_b = _key(org), _key(org)
    statuses = [client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Api-Key {key_a}").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Api-Key {key_a}")
    assert response.json()["type"] == "client_error"
    assert response.json()["errors"][0]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Api-Key {key_b}").status_code == 200


def test_openapi_schema_and_local_swagger(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/organizations/" in schema.content and b"ApiKey" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower() and "https://" not in docs


def test_health_endpoints(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    body = client.get("/readyz").json()
    assert body["status"] == "ok", body
    assert set(body["checks"]) == {"database", "cache", "broker"}


def test_readyz_reports_a_failing_dependency(client, monkeypatch):
    from expensico_sync.core import health

    def broken():
        raise ConnectionError("broker down")

    monkeypatch.setitem(health.CHECKS, "broker", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"ok": False, "error": "ConnectionError: broker down"}


def test_an_api_url_no_route_matches_answers_404_in_the_error_format(client):
    org = make_org()
    response = client.get("/api/v1/accounting-exports/1/2/3/", HTTP_AUTHORIZATION=f"Api-Key {_key(org)}")
    assert response.status_code == 404
    assert response.json() == {"type": "client_error", "errors": [
        {"code": "not_found", "detail": "No such endpoint or object.", "attr": None}]}
    assert client.get("/no-such-page/").status_code == 404
    assert "text/html" in client.get("/no-such-page/")["Content-Type"]
