import pytest

from connectors.registry import vendor, vendors
from expensico_sync.core.services import organization_create

from .openapi_check import OpenAPIChecker, wafeq_spec_path

SPEC_FOR = {"wafeq": wafeq_spec_path}


def kit_for(system: str):
    """Each vendor in connectors/registry.py ships a testkit: start_sandbox, connect, sample_entry, invalid_entry,
    reversal_entry, held, revoke (and optionally exchange_checker, an observer with `.problems`)."""
    return vendor(system).module("testkit")


@pytest.fixture(params=[entry.key for entry in vendors()])
def system(request):
    return request.param


@pytest.fixture
def kit(system):
    return kit_for(system)


@pytest.fixture
def sandbox(kit, system):
    server = kit.start_sandbox()
    # A vendor kit may bring its own exchange checker (e.g. WSDL/XSD validation for SOAP).
    if hasattr(kit, "exchange_checker"):
        checker = kit.exchange_checker()
    else:
        checker = OpenAPIChecker(SPEC_FOR[system]()) if system in SPEC_FOR else None
    if checker:
        server.app.observers.append(checker)
    server.checker = checker
    yield server
    server.stop()
    if checker:
        assert not checker.problems, "OpenAPI violations:\n" + "\n".join(checker.problems)


@pytest.fixture
def organization(db):
    return organization_create(slug="contract", name="Contract Co", base_currency="SAR", country="SA")


@pytest.fixture
def connection(kit, sandbox, organization):
    return kit.connect(sandbox, organization)
