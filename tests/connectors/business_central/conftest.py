import pytest

from connectors.business_central.sandbox import testkit


@pytest.fixture
def bc_server():
    server = testkit.start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def bc_connection(bc_server, org):
    return testkit.connect(bc_server, org)
