"""Which lock pre-flight checks a document's date against, from the cached metadata alone: the
lock the vendor published (Business Central), the one its last refusal reported, or the one the
connection states (`vendor_closed_through`, for the five vendors whose API does not publish it);
the latest wins, and a change to the stated one counts from the next document."""

from datetime import date

import pytest
from django.utils import timezone

from connectors.metadata import connection_lock_learn, connection_metadata, connection_metadata_cached
from connectors.models import Connection, VendorMetadataCache
from connectors.preflight import VendorMetadata
from connectors.vendor_settings import settings_errors

pytestmark = pytest.mark.django_db


def _cached(org, *, published: date | None, stated: str = "") -> Connection:
    conn = Connection.objects.create(organization=org, system="xledger", name=f"books {stated or published}", base_url="http://127.0.0.1:9/",
                                     settings={"vendor_closed_through": stated} if stated else {})
    VendorMetadataCache.objects.create(connection=conn, fetched_at=timezone.now(),
                                       data=VendorMetadata(accounts={}, closed_through=published).to_json())
    return conn


def _through(conn):
    fresh = connection_metadata(connection=conn)    # fresh cache: no vendor call (base_url is a dead port)
    assert fresh is not None
    cached = connection_metadata_cached(connection=conn)
    assert cached is not None and cached.closed_through == fresh.closed_through
    return fresh.closed_through


def test_the_stated_lock_is_checked_where_the_vendor_publishes_none(org):
    assert _through(_cached(org, published=None)) is None
    assert _through(_cached(org, published=None, stated="2026-10-31")) == date(2026, 10, 31)


def test_the_latest_of_published_learned_and_stated_wins(org):
    conn = _cached(org, published=date(2026, 9, 30), stated="2026-08-31")
    assert _through(conn) == date(2026, 9, 30)
    connection_lock_learn(connection=conn, period_end="2026-10-31")
    assert _through(conn) == date(2026, 10, 31)
    conn.settings = {"vendor_closed_through": "2026-11-30"}     # restated: counts at once, cache or not
    assert _through(conn) == date(2026, 11, 30)


def test_a_stated_lock_that_is_not_a_date_is_refused_naming_the_setting():
    errors = settings_errors("moon_erp", {"vendor_closed_through": "30/11/2026"})
    assert list(errors) == ["vendor_closed_through"] and "YYYY-MM-DD" in errors["vendor_closed_through"]
    assert settings_errors("moon_erp", {"vendor_closed_through": "2026-11-30"}) == {}
    assert settings_errors("moon_erp", {"vendor_closed_through": ""}) == {}
