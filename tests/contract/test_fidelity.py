"""Every "lands" cell of connectors/FIDELITY.md that the sample document can show, proven against
the vendor's own copy: the testkit's sample entry, given the texts an Expensico document carries
(and changed by the cell's `prepare` where the cell needs it), is pushed to the sandbox over real
HTTP and read back; the field the cell names must hold what we sent (issue 18 item 1)."""

import dataclasses
import uuid

import pytest

from connectors.base import connector_for
from connectors.fidelity import FOREIGN_RATE, Lands, columns, foreign
from connectors.money import round_money
from connectors.registry import vendors

from .conftest import kit_for
from .test_read_back import read

pytestmark = pytest.mark.django_db

CELLS = [(system, key) for system, (_, column) in columns().items()
         for key, cell in column.items() if isinstance(cell, Lands) and cell.proven_on_sample]
READS_BACK = {v.key for v in vendors() if v.connector_class().reads_back}


@pytest.fixture(params=CELLS, ids=[f"{s}-{k}" for s, k in CELLS])
def cell(request):
    return request.param


@pytest.fixture
def system(cell):
    return cell[0]


def enriched(entry):
    """The sample with what an Expensico expense carries besides amounts: both descriptions,
    merchant and employee."""
    return dataclasses.replace(entry, description_ar="عشاء عمل مع العميل", merchant="مطعم البيك Al Baik",
                               employee="Sara Ali")


def test_every_vendor_proves_its_cells_by_reading_back():
    assert {system for system, _ in CELLS} <= READS_BACK


def test_the_field_lands_in_the_vendors_copy(cell, kit, sandbox, connection):
    system, key = cell
    spec = columns()[system][1][key]
    assert isinstance(spec, Lands) and spec.read and spec.expect
    reference = f"EXPENSICO-exp_{uuid.uuid4().hex[:10]}-v1"
    entry = enriched(kit.sample_entry(sandbox, connection, reference))
    if spec.prepare:
        entry = spec.prepare(entry)
    connector_for(connection).push(entry, str(uuid.uuid4()))
    docs, _ = read(connection, sandbox, references=[reference])
    mine = [doc for doc in docs if doc.reference == reference]
    assert len(mine) == 1, f"{system} holds {len(mine)} documents for {reference}"
    expected = spec.expect(entry)
    assert expected not in (None, "", ()), f"{system}.{key}: the sample sends nothing to compare"
    assert spec.read(mine[0], entry) == expected, f"{system}: {key} does not land in {spec.field}"


FOREIGN_CURRENCY = {"xledger": "EUR"}   # the Xledger sandbox's currency table has no KWD


@pytest.fixture(params=[v.key for v in vendors()])
def vendor_key(request):
    return request.param


def test_a_foreign_claim_books_by_default_and_reads_back(vendor_key, request):
    """Issue 18 1b: a KWD claim with Expensico's rate books under the default settings, in its own
    currency with the rate where the vendor takes both, otherwise converted at the rate (read back)."""
    request.getfixturevalue("db")
    kit = kit_for(vendor_key)
    server = kit.start_sandbox()
    try:
        organization = request.getfixturevalue("organization")
        connection = kit.connect(server, organization)
        sample = kit.sample_entry(server, connection, "EXPENSICO-exp_kwd-v1")
        organization.base_currency = sample.currency        # the rate is to the organisation's currency
        organization.save(update_fields=["base_currency"])
        connection.refresh_from_db()
        assert not connection.settings.get("base_currency_amounts")
        entry = foreign(sample, currency=FOREIGN_CURRENCY.get(vendor_key, "KWD"))
        connector_for(connection).push(entry, str(uuid.uuid4()))
        docs, _ = read(connection, server, references=[entry.reference])
        [doc] = [d for d in docs if d.reference == entry.reference]
        # Compared at the currency's minor unit: Moon holds three decimals of what it computed.
        held = (doc.currency, round_money(doc.amount, doc.currency))
        if doc.currency == entry.currency:
            assert held == (entry.currency, entry.gross)
        else:
            assert held == (sample.currency, round_money(entry.gross * FOREIGN_RATE, sample.currency))
    finally:
        server.stop()
