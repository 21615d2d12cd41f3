import pytest

from connectors import base
from connectors.models import Connection
from mappings.models import CategoryMapping

from . import fake_ledger


@pytest.fixture(autouse=True)
def _read_back_fakes_registered():
    for cls in (fake_ledger.ReadBackFake, fake_ledger.BudgetedFake):
        base._registry[cls.system] = cls
    fake_ledger.EXTRA.clear()
    yield
    fake_ledger.EXTRA.clear()
    for cls in (fake_ledger.ReadBackFake, fake_ledger.BudgetedFake):
        base._registry.pop(cls.system, None)


def ledger_connection(org, system="fake_rb", name="Ledger books"):
    connection = Connection.objects.create(
        organization=org, system=system, name=name, base_url="http://fake.invalid/",
        employee_claims_account="acc-claims", employees_balance_account="acc-balance",
        funding_bank_account="bank-1", status="connected")
    for code in ("TRAVEL", "MEALS"):
        CategoryMapping.objects.create(connection=connection, category_code=code, account=f"acc-{code.lower()}")
    return connection


@pytest.fixture
def books(org):
    return ledger_connection(org)
