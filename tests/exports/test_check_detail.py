"""A connection check's detail joins the vendor's company name and the check's words with " · " only
when there are both: "Fake books Ltd ·" with nothing after it was a stray separator."""

from unittest import mock

import pytest

from connectors.base import CheckResult
from connectors.services import connection_check

from . import fake

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name, detail, shown", [("Fake books Ltd", "", "Fake books Ltd"),
                                                  ("Fake books Ltd", "fiscal year open", "Fake books Ltd · fiscal year open"),
                                                  ("", "fiscal year open", "fiscal year open")])
def test_the_check_detail_has_no_stray_separator(conn, name, detail, shown):
    result = CheckResult(ok=True, organization_name=name, detail=detail)
    with mock.patch.object(fake.FakeConnector, "check", return_value=result):
        connection_check(connection=conn)
    conn.refresh_from_db()
    assert conn.last_check_detail == shown
