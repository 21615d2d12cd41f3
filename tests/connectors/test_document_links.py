"""Vendor document links: a connector capability. Business Central documents web-client URLs
(page + filter); the other five systems return no address for a document in their API and
document none, so they link nothing (connectors/FIDELITY.md says why, per system)."""

from itertools import count
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.base import connector_class
from connectors.business_central.schema import short_reference
from connectors.models import Connection
from connectors.registry import vendors
from tests.core.factories import make_org

pytestmark = pytest.mark.django_db
REFERENCE = "EXPENSICO-exp_1-v1"
BC_BASE = "https://api.businesscentral.dynamics.com/v2.0/contoso.onmicrosoft.com/production/api/v2.0"
_n = count()


def connection(system, *, base_url="https://example.invalid/", **settings):
    return Connection.objects.create(organization=make_org(f"links-{next(_n)}"), system=system, name=system,
                                     base_url=base_url, settings=settings)


def bc(**settings):
    return connection("business_central", base_url=BC_BASE, **{"company_name": "CRONUS International Ltd.",
                                                              **settings})


def link(conn, external_id):
    return connector_class(conn.system).document_url(conn, external_id, reference=REFERENCE)


def parts(url):
    split = urlsplit(url)
    return split.netloc, split.path, {k: v[0] for k, v in parse_qs(split.query).items()}


@pytest.mark.parametrize("system,external_id", [
    ("wafeq", "exp_8f2c1a"), ("xledger", "GL:1234567"), ("workday", "b6c2a1f0e9d84c7e"),
    ("apideck", "jrnl_123"), ("moon_erp", "4711")])
def test_systems_that_publish_no_document_address_link_nothing(system, external_id):
    assert link(connection(system), external_id) is None


def test_every_registered_vendor_is_covered_here():
    assert {v.key for v in vendors()} == {"wafeq", "xledger", "workday", "apideck", "moon_erp", "business_central"}


def test_business_central_posted_journal_opens_general_ledger_entries_by_document_number():
    host, path, query = parts(link(bc(post=True), "GJ:EXP-0011223344556677"))
    assert (host, path) == ("businesscentral.dynamics.com", "/contoso.onmicrosoft.com/production/")
    assert query == {"company": "CRONUS International Ltd.", "page": "20",
                     "filter": "'Document No.' IS 'EXP-0011223344556677'"}


def test_business_central_purchase_invoice_by_our_reference_draft_or_posted():
    _, _, draft = parts(link(bc(), "PI:6f1c0e8a-0000-4000-8000-000000000001"))
    assert draft["page"] == "9308" and draft["filter"] == f"'Vendor Invoice No.' IS '{short_reference(REFERENCE)}'"
    _, _, posted = parts(link(bc(post=True), "PI:6f1c0e8a-0000-4000-8000-000000000001"))
    assert posted["page"] == "146"


def test_business_central_links_nothing_it_cannot_address():
    assert link(bc(), "GJ:EXP-0011223344556677") is None                      # unposted, in the batch
    assert link(bc(post=True, company_name=""), "GJ:EXP-1") is None            # which company: not learned yet
    assert link(connection("business_central", company_name="C", post=True), "GJ:EXP-1") is None  # no environment


def test_business_central_quotes_and_tenant_from_the_token():
    conn = bc(post=True, company_name="O'Neil & Co")
    conn.base_url = "https://api.businesscentral.dynamics.com/v2.0/sandbox/api/v2.0"
    host, path, query = parts(link(conn, "GJ:A'B"))
    assert path == "/sandbox/" and query["company"] == "O'Neil & Co" and query["filter"] == "'Document No.' IS 'A''B'"
