import pytest

from expensico_sync.core.roles import Role
from tests.core.factories import make_member, make_org
from tests.mappings.factories import make_connection


@pytest.fixture
def org(db):
    return make_org("acme")


@pytest.fixture
def connection(org):
    return make_connection(org, name="Wafeq books")


@pytest.fixture
def owner(org):
    return make_member(org, Role.FINANCE_ADMIN, "fiona")


@pytest.fixture
def viewer(org):
    return make_member(org, Role.VIEWER, "victor")
