import pytest

from connectors.wafeq.sandbox import testkit
from expensico_sync.core.services import organization_create
from tests.connectors.listener import Listener


@pytest.fixture
def wafeq_server():
    """Every exchange in these tests is also checked against Wafeq's OpenAPI subset."""
    from tests.contract.openapi_check import OpenAPIChecker, wafeq_spec_path
    server = testkit.start_sandbox()
    checker = OpenAPIChecker(wafeq_spec_path())
    server.app.observers.append(checker)
    yield server
    server.stop()
    assert not checker.problems, "OpenAPI violations:\n" + "\n".join(checker.problems)


@pytest.fixture
def org(db):
    return organization_create(slug="acme", name="Acme", base_currency="SAR", country="SA")


@pytest.fixture
def wafeq_connection(wafeq_server, org):
    return testkit.connect(wafeq_server, org)


@pytest.fixture
def listener():
    """A loopback HTTP server that records every request it receives (what a credential leak would reach)."""
    server = Listener().start()
    yield server
    server.stop()
