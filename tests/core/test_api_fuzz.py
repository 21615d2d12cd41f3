"""Schemathesis over the whole API, in process against the WSGI app: no 5xx, and every answer
(status code, content type, headers, body) is what the OpenAPI schema says.

Authenticated as a finance_admin API key of an organisation seeded with one row of every model
(the isolation factories) and a live connection to an in-process Wafeq sandbox, so check, catalog
and configure talk to a real vendor. Generated integer ids are pointed at the organisation's own
rows, or nearly every call would be a 404. Generated connection base URLs are replaced by a
loopback address before sending: the run never calls a host it made up. The webhook intake is
left out (without a Standard Webhooks signature every call is a 401; its bad-input table has its
own tests).
"""

import json

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import IntegrityError, close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import expensico_sync.urls  # noqa: F401  (fills the router)
from connectors.models import Connection
from connectors.wafeq.sandbox import testkit
from connectors.wafeq.sandbox.server import API_KEY
from expensico_sync.core.api.router import router
from expensico_sync.core.roles import Role
from expensico_sync.core.services import api_key_create, organization_create
from expensico_sync.wsgi import application
from tests.registry import load_all

FACTORIES = load_all()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def sandbox():
    server = testkit.start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def seeded(db, sandbox):
    """An organisation with data, the key the run calls with, and where its vendor lives."""
    sandbox.app.reset()
    sandbox_url = f"{sandbox.base_url}/v1"
    org = organization_create(slug="fuzz", name="Fuzz Trading", base_currency="SAR", country="SA")
    org.expensico_api_base_url = "http://127.0.0.1:9/"
    org.save()
    # The exports factories make their own connection by this name; make it a real vendor's.
    Connection.objects.create(organization=org, system="wafeq", name="Isolation books", base_url=sandbox_url)
    for factory in FACTORIES.values():
        try:
            with transaction.atomic():
                factory(org)
        except IntegrityError:  # a row an earlier factory made already (one connection per name)
            pass
    # Every connection talks to the sandbox, so a vendor call answers: a 502 here would be a finding.
    for conn in Connection.objects.filter(organization=org):
        conn.base_url, conn.api_key = sandbox_url, API_KEY
        conn.settings = {**conn.settings, "rate_limit_per_second": 1000}
        conn.save()
    testkit.connect(sandbox, org)
    _, key = api_key_create(organization=org, role=Role.FINANCE_ADMIN, name="fuzz")
    # Like Django's test client: the WSGI handler must not close the test's connection (and with it
    # the transaction holding the seed) at the end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield org, key, sandbox_url
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _served_schema() -> dict:
    """What /api/schema/ serves, built without a request (collection has no database), so each
    operation becomes its own test and xdist spreads them."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(_served_schema()).exclude(path_regex=r"^/api/v1/expensico/webhooks/")
schema.app = application


def _own_ids(path: str, org) -> list[int]:
    for prefix, viewset, _ in router.registry:
        if path.startswith(f"/api/v1/{prefix}/"):
            path_to_org = getattr(viewset, "org_path", "organization")
            lookup = {"pk": org.pk} if path_to_org is None else {path_to_org: org}
            return sorted(viewset.queryset.model.objects.filter(**lookup).values_list("pk", flat=True))
    return []


def _aim(case, org, sandbox_url: str) -> None:
    ident = (case.path_parameters or {}).get("id")
    if isinstance(ident, int) and not isinstance(ident, bool):
        ids = _own_ids(case.operation.path, org)
        if ids:
            case.path_parameters["id"] = ids[ident % len(ids)]
    if case.operation.path.startswith("/api/v1/connections/") and isinstance(case.body, dict) \
            and "base_url" in case.body:
        case.body["base_url"] = sandbox_url


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, seeded):
    org, key, sandbox_url = seeded
    _aim(case, org, sandbox_url)
    cache.clear()  # the per-key throttle is not what this run is about
    case.call_and_validate(headers={"Authorization": f"Api-Key {key}"}, checks=CHECKS)
