import pytest
from lxml import etree

from connectors.workday.client import NS
from connectors.workday.sandbox import testkit
from connectors.workday.sandbox.server import xsd
from expensico_sync.core.services import organization_create


class XsdChecker:
    """Every SOAP answer the sandbox sends (success and fault detail) must be valid v30 XSD."""

    def __init__(self):
        self.problems: list[str] = []
        self.checked = 0

    def __call__(self, req, resp):
        if not isinstance(resp.body, bytes) or not resp.content_type.startswith("text/xml") or b"<wsdl:" in resp.body[:400]:
            return
        body = etree.fromstring(resp.body).find("env:Body", NS)
        node = body[0]
        if etree.QName(node).localname == "Fault":
            detail = node.find("detail")
            if detail is None or not len(detail):
                return
            node = detail[0]
        self.checked += 1
        tree = etree.ElementTree(etree.fromstring(etree.tostring(node)))
        if not xsd().validate(tree):
            self.problems.append(f"{etree.QName(node).localname}: {xsd().error_log}")


@pytest.fixture
def workday_server():
    server = testkit.start_sandbox()
    checker = XsdChecker()
    server.app.observers.append(checker)
    server.checker = checker
    yield server
    server.stop()
    assert not checker.problems, "XSD violations in sandbox answers:\n" + "\n".join(checker.problems)


@pytest.fixture
def org(db):
    return organization_create(slug="wd", name="WD Co", base_currency="SAR", country="SA")


@pytest.fixture
def workday_connection(workday_server, org):
    return testkit.connect(workday_server, org)
