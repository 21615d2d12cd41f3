"""Backups: encrypted round trips on PostgreSQL and SQLite, a directory and an S3-compatible
server (moto, loopback), and refusals for a wrong key and altered files."""

import sqlite3
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from expensico_sync.backups import crypto, dump, services
from expensico_sync.backups.models import BackupRun
from expensico_sync.backups.signals import backup_failed
from expensico_sync.core.services import organization_create

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump/pg_restore round trip")


@pytest.fixture
def scratch_db():
    """An empty PostgreSQL database next to the test database, dropped afterwards."""
    live = connection.settings_dict
    name = f"{live['NAME']}_restored"
    yield dump.pg_create(live, name)
    dump.pg_drop(live, name)


# PostgreSQL: backup → drop → restore → compare ----------------------------------------------------
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_postgres_backup_restores_into_an_empty_database_with_the_same_rows(tmp_path, scratch_db):
    organization_create(slug="acme", name="Acme Trading", base_currency="SAR", country="SA")
    run = services.backup(target_url=str(tmp_path))
    assert run.status == BackupRun.Status.OK, run.detail
    assert run.row_counts["core_organization"] == 1
    stored = (tmp_path / run.name).read_bytes()
    assert b"Acme Trading" not in stored                      # encrypted before it left the process

    url = f"postgres://{scratch_db.get('USER') or 'postgres'}@{scratch_db.get('HOST') or '127.0.0.1'}:" \
          f"{scratch_db.get('PORT') or 5432}/{scratch_db['NAME']}"
    call_command("restore", run.name, "--target", str(tmp_path), "--database-url", url)

    assert dump.table_counts(scratch_db) == run.row_counts
    import psycopg
    with psycopg.connect(dump._conninfo(scratch_db)) as conn:
        assert conn.execute("SELECT name FROM core_organization").fetchone()[0] == "Acme Trading"

    with pytest.raises(CommandError, match="not empty"):                # never merges into live data
        call_command("restore", run.name, "--target", str(tmp_path), "--database-url", url)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_restore_drill_restores_the_latest_backup_and_checks_it(tmp_path):
    services.backup(target_url=str(tmp_path))
    run = services.drill(target_url=str(tmp_path))
    assert run.status == BackupRun.Status.OK, run.detail
    assert "match the manifest" in run.detail
    assert run.row_counts["backups_backuprun"] >= 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_drill_on_an_altered_backup_fails_records_it_and_alerts(tmp_path):
    run = services.backup(target_url=str(tmp_path))
    _flip_a_byte(tmp_path / run.name)
    alerts = []
    backup_failed.connect(lambda sender, run, **kw: alerts.append(run), weak=False, dispatch_uid="t")
    try:
        drill = services.drill(target_url=str(tmp_path))
    finally:
        backup_failed.disconnect(dispatch_uid="t")
    assert drill.status == BackupRun.Status.FAILED
    assert "altered" in drill.detail
    assert alerts == [drill]


# Refusals (engine-independent: the file format) ---------------------------------------------------
def _encrypted(tmp_path: Path, payload: bytes, chunk: int = 16) -> Path:
    path = tmp_path / "x.backup"
    with path.open("wb") as out:
        crypto.encrypt((payload[i:i + chunk] for i in range(0, len(payload), chunk)), out, {"name": "x"})
    return path


def _records(path: Path) -> list[bytes]:
    data, pos, out = path.read_bytes(), len(crypto.MAGIC), []
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 8], "big")
        out.append(data[pos:pos + 8 + length])
        pos += 8 + length
    return out


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _plain(path: Path) -> bytes:
    with path.open("rb") as fh:
        chunks, _ = crypto.decrypt(fh)
        return b"".join(chunks)


def test_round_trip_and_key_rotation(tmp_path, settings):
    path = _encrypted(tmp_path, b"the ledger" * 100)
    assert _plain(path) == b"the ledger" * 100
    settings.BACKUP_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.BACKUP_ENCRYPTION_KEYS]
    assert _plain(path) == b"the ledger" * 100                # old backups stay readable after rotation


def test_a_wrong_key_is_refused(tmp_path, settings):
    path = _encrypted(tmp_path, b"secret rows")
    settings.BACKUP_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.BackupRefused, match="wrong BACKUP_ENCRYPTION_KEYS"):
        _plain(path)


@pytest.mark.parametrize("damage, message", [
    ("flip", "altered"),
    ("truncate", "no manifest"),
    ("reorder", "do not match|does not match"),
    ("drop", "does not match"),
    ("header", "bad header"),
])
def test_an_altered_file_is_refused_before_anything_is_restored(tmp_path, damage, message):
    path = _encrypted(tmp_path, bytes(range(256)) * 4)
    records = _records(path)
    if damage == "flip":
        _flip_a_byte(path)
    elif damage == "truncate":
        path.write_bytes(crypto.MAGIC + b"".join(records[:-1]))
    elif damage == "reorder":
        path.write_bytes(crypto.MAGIC + b"".join([records[1], records[0], *records[2:]]))
    elif damage == "drop":
        path.write_bytes(crypto.MAGIC + b"".join(records[1:]))
    else:
        path.write_bytes(b"PK\x03\x04" + path.read_bytes()[4:])
    restored = []
    with pytest.raises(crypto.BackupRefused, match=message):
        with path.open("rb") as fh:
            chunks, _ = crypto.decrypt(fh)
            restored.extend(chunks)
    assert restored == []


# SQLite: the online backup API ---------------------------------------------------------------------
def test_sqlite_snapshot_restores_into_an_empty_file(tmp_path):
    source = tmp_path / "live.sqlite3"
    conn = sqlite3.connect(source)
    conn.execute("CREATE TABLE expense (id INTEGER PRIMARY KEY, merchant TEXT)")
    conn.executemany("INSERT INTO expense (merchant) VALUES (?)", [("مطعم",), ("Careem",)])
    conn.commit()
    live = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(source)}
    path = tmp_path / "s.backup"
    with dump.snapshot(live) as (counts, chunks), path.open("wb") as out:
        conn.execute("INSERT INTO expense (merchant) VALUES ('after the snapshot')")
        conn.commit()
        crypto.encrypt(chunks, out, {"row_counts": counts})
    conn.close()
    assert counts == {"expense": 2}

    target = {**live, "NAME": str(tmp_path / "restored.sqlite3")}
    with path.open("rb") as fh:
        plain, manifest = crypto.decrypt(fh)
        dump.restore(plain, target)
    assert dump.table_counts(target) == manifest["row_counts"] == {"expense": 2}
    with pytest.raises(dump.BackupFailed, match="not empty"):
        with path.open("rb") as fh:
            dump.restore(crypto.decrypt(fh)[0], target)


# S3-compatible target (moto's server on loopback) --------------------------------------------------
@pytest.fixture
def s3_server(monkeypatch, settings):
    from moto.server import ThreadedMotoServer

    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    settings.BACKUP_S3_ENDPOINT_URL = f"http://{host}:{port}"
    import boto3
    boto3.client("s3", endpoint_url=settings.BACKUP_S3_ENDPOINT_URL).create_bucket(Bucket="backups")
    yield settings.BACKUP_S3_ENDPOINT_URL
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_backup_to_an_s3_bucket_and_drill_from_it(s3_server):
    organization_create(slug="s3co", name="S3 Co", base_currency="SAR", country="SA")
    run = services.backup(target_url="s3://backups/nightly")
    assert run.status == BackupRun.Status.OK, run.detail
    names = services.backup_target("s3://backups/nightly").names()
    assert names == [run.name, f"{run.name}.manifest.json"]
    drill = services.drill(target_url="s3://backups/nightly")
    assert drill.status == BackupRun.Status.OK, drill.detail
    assert drill.row_counts["core_organization"] == 1


def test_a_backup_key_that_is_also_a_field_key_is_refused(settings):
    from expensico_sync.backups.checks import backup_keys_check

    settings.BACKUP_ENCRYPTION_KEYS = list(settings.FIELD_ENCRYPTION_KEYS)
    assert [e.id for e in backup_keys_check()] == ["backups.E002"]
    settings.BACKUP_ENCRYPTION_KEYS = ["not-a-key"]
    assert [e.id for e in backup_keys_check()] == ["backups.E001"]
