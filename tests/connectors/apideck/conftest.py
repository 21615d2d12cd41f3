import pytest

from connectors.apideck.sandbox import testkit
from expensico_sync.core.services import organization_create


@pytest.fixture
def apideck_server():
    server = testkit.start_sandbox()
    answers: list[tuple[str, int]] = []
    server.app.observers.append(lambda req, resp: answers.append((f"{req.method} {req.path}", resp.status)))
    server.answers = answers
    yield server
    server.stop()
    # The sandbox answers 500 SandboxError when its own answer breaks the spec: never acceptable.
    assert not [a for a in answers if a[1] == 500], answers


@pytest.fixture
def org(db):
    return organization_create(slug="apd", name="APD Co", base_currency="SAR", country="SA")


@pytest.fixture
def apideck_connection(apideck_server, org):
    return testkit.connect(apideck_server, org)
