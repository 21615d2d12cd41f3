import pytest

from connectors.xledger.sandbox import testkit


@pytest.fixture
def xl_server():
    server = testkit.start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def xl_connection(xl_server, org):
    return testkit.connect(xl_server, org)
