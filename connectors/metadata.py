"""The cached copy of each connection's vendor metadata (pre-flight's input): fetched through the
connector's `preflight_metadata` capability at most once per freshness window, outside any
transaction, and shared by every worker through the database."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta

from django.conf import settings
from django.db import connection as db
from django.utils import timezone

from .base import connector_class, connector_for
from .errors import ConnectorError
from .models import Connection, VendorMetadataCache
from .periods import closed_through
from .preflight import VendorMetadata

log = logging.getLogger(__name__)
LOCK_SPACE = 0x6d657461    # "meta": the advisory-lock key space of metadata fetches (key: connection id)


def max_age() -> timedelta:
    return timedelta(seconds=getattr(settings, "PREFLIGHT_METADATA_MAX_AGE", 900))


def connection_metadata(*, connection: Connection, refresh: bool = False) -> VendorMetadata | None:
    """The vendor's metadata, from the cache while it is fresh; None where the connector offers
    none (or it could not be read and nothing was cached: the vendor will judge the document)."""
    if not connector_class(connection.system).offers_preflight:
        return None
    row = VendorMetadataCache.objects.filter(connection=connection).first()
    if row is not None and row.data is not None and row.fetched_at is not None and not refresh \
            and timezone.now() - row.fetched_at < max_age():
        return _with_locks(VendorMetadata.from_json(row.data), row, connection)
    with _one_fetch_at_a_time(connection):
        fresh = VendorMetadataCache.objects.filter(connection=connection).first()
        if fresh is not None and fresh.data is not None and fresh.fetched_at is not None and not refresh \
                and (row is None or fresh.fetched_at != row.fetched_at):
            return _with_locks(VendorMetadata.from_json(fresh.data), fresh, connection)   # another worker just fetched it
        return _fetch(connection, row)


@contextmanager
def _one_fetch_at_a_time(connection: Connection) -> Iterator[None]:
    """Workers that start together would each fetch the same metadata (several vendor requests,
    billed on some vendors): the first fetches, the others wait for it and read its copy. A
    session-level advisory lock on PostgreSQL (released with the session if the worker dies);
    elsewhere (SQLite: one process) there is nobody to wait for."""
    if db.vendor != "postgresql":
        yield
        return
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_SPACE, connection.pk])
    try:
        yield
    finally:
        with db.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_SPACE, connection.pk])


def _fetch(connection: Connection, row: VendorMetadataCache | None) -> VendorMetadata | None:
    try:
        meta = connector_for(connection).preflight_metadata()
    except ConnectorError as exc:
        log.warning("pre-flight metadata of connection %s: %s", connection.pk, exc)
        if row is not None and row.data is not None:
            return _with_locks(VendorMetadata.from_json(row.data), row, connection)   # stale beats none
        return None
    if meta is None:
        return None
    # A learned lock lasts one window: the vendor may have reopened the period meanwhile.
    row, _ = VendorMetadataCache.objects.update_or_create(
        connection=connection, defaults={"data": meta.to_json(), "fetched_at": timezone.now(),
                                         "learned_closed_through": None})
    return _with_locks(meta, row, connection)


def connection_metadata_cached(*, connection: Connection) -> VendorMetadata | None:
    """As last fetched, however old; never a vendor call (the mapping screens)."""
    row = VendorMetadataCache.objects.filter(connection=connection).first()
    if row is None or row.data is None:
        return None
    return _with_locks(VendorMetadata.from_json(row.data), row, connection)


def connection_lock_learn(*, connection: Connection, period_end: str | None) -> None:
    """The vendor refused a document for a closed period and said through which day: later
    documents in that range are caught before they are sent."""
    if not period_end:
        return
    through = date.fromisoformat(period_end[:10])
    row, _ = VendorMetadataCache.objects.get_or_create(connection=connection)
    if row.learned_closed_through is None or through > row.learned_closed_through:
        VendorMetadataCache.objects.filter(pk=row.pk).update(learned_closed_through=through)


def _with_locks(meta: VendorMetadata, row: VendorMetadataCache, connection: Connection) -> VendorMetadata:
    """The vendor's lock as it published it (Business Central), as learned from its last refusal,
    or as the connection states it (the vendors whose API does not publish it): the latest wins.
    The stated lock is read here, not cached, so a change to it counts from the next document."""
    from .vendor_settings import VendorSettings
    stated = closed_through(VendorSettings.of(connection).vendor_closed_through)
    known = [day for day in (meta.closed_through, row.learned_closed_through, stated) if day is not None]
    if not known or max(known) == meta.closed_through:
        return meta
    return replace(meta, closed_through=max(known))
