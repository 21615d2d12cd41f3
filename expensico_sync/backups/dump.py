"""Engine-specific dump and restore: PostgreSQL through pg_dump's custom format and pg_restore,
SQLite through its online backup API. Both stream chunks; neither writes plaintext to a target."""

import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .crypto import CHUNK


class BackupFailed(Exception):
    pass


def engine(db: dict) -> str:
    name = db["ENGINE"].rsplit(".", 1)[-1]
    if name not in ("postgresql", "sqlite3"):
        raise BackupFailed(f"no backup support for the {name} engine")
    return name


@contextmanager
def snapshot(db: dict) -> Iterator[tuple[dict[str, int], Iterator[bytes]]]:
    """Row counts per table and the dump's chunks, both from one consistent snapshot, so a drill
    can compare them exactly even while the service keeps writing."""
    if engine(db) == "postgresql":
        import psycopg

        with psycopg.connect(_conninfo(db)) as conn:
            conn.isolation_level, conn.read_only = psycopg.IsolationLevel.REPEATABLE_READ, True
            exported = _one(conn, "SELECT pg_export_snapshot()")
            yield _pg_counts(conn), _pg_dump(db, exported)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / "copy.sqlite3"
            source, dest = _sqlite_connect(db["NAME"]), sqlite3.connect(copy)
            try:
                source.backup(dest)                 # consistent even while the web process writes
                counts = _sqlite_counts(dest)
            finally:
                dest.close()
                source.close()
            yield counts, _file_chunks(copy)


def table_counts(db: dict) -> dict[str, int]:
    """Rows per table of a (restored) database, counted the way `snapshot` counts them."""
    if engine(db) == "postgresql":
        import psycopg

        with psycopg.connect(_conninfo(db), autocommit=True) as conn:
            return _pg_counts(conn)
    lite = _sqlite_connect(db["NAME"])
    try:
        return _sqlite_counts(lite)
    finally:
        lite.close()


def restore(chunks: Iterable[bytes], db: dict) -> None:
    """Restores into `db`, which must be empty (no tables): a restore never merges into live data."""
    if engine(db) == "postgresql":
        _pg_restore(chunks, db)
    else:
        _sqlite_restore(chunks, db)


# PostgreSQL ------------------------------------------------------------------------------------
def _pg(db: dict) -> tuple[list[str], dict]:
    args = ["-U", db.get("USER") or "postgres", "-d", db["NAME"]]
    if db.get("HOST"):
        args += ["-h", db["HOST"]]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _pg_counts(conn) -> dict[str, int]:
    from psycopg import sql

    tables = [row[0] for row in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
    return {t: int(_one(conn, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t)))) for t in tables}


def _one(conn: Any, query: Any) -> Any:
    row = conn.execute(query).fetchone()
    assert row is not None  # an aggregate or a function call always answers one row
    return row[0]


def _pg_dump(db: dict, exported_snapshot: str) -> Iterator[bytes]:
    args, env = _pg(db)
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                                 f"--snapshot={exported_snapshot}", *args],
                                stdout=subprocess.PIPE, stderr=errors, env=env)
        assert proc.stdout is not None  # stdout=PIPE
        try:
            while chunk := proc.stdout.read(CHUNK):
                yield chunk
        finally:
            proc.stdout.close()
            code = proc.wait()
        if code:
            errors.seek(0)
            raise BackupFailed(f"pg_dump exited with {code}: {errors.read().decode(errors='replace')[-2000:]}")


def pg_table_count(db: dict) -> int:
    import psycopg

    with psycopg.connect(_conninfo(db), autocommit=True) as conn:
        return int(_one(conn, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"))


def _conninfo(db: dict) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(dbname=db["NAME"], user=db.get("USER") or "postgres", password=db.get("PASSWORD") or None,
                         host=db.get("HOST") or None, port=str(db["PORT"]) if db.get("PORT") else None)


def _pg_restore(chunks: Iterable[bytes], db: dict) -> None:
    if pg_table_count(db):
        raise BackupFailed(f"database {db['NAME']!r} is not empty: restore only into an empty database")
    args, env = _pg(db)
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", *args],
                                stdin=subprocess.PIPE, stderr=errors, env=env)
        assert proc.stdin is not None  # stdin=PIPE
        try:
            for chunk in chunks:
                proc.stdin.write(chunk)
        except BrokenPipeError:
            pass                                    # pg_restore stopped: its exit code says why
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
            code = proc.wait()
        if code:
            errors.seek(0)
            raise BackupFailed(f"pg_restore exited with {code}: {errors.read().decode(errors='replace')[-2000:]}")


def pg_create(db: dict, name: str) -> dict:
    """Creates database `name` on db's server (for the drill); returns its settings."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(_conninfo(db), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return {**db, "NAME": name}


def pg_drop(db: dict, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_conninfo(db), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# SQLite ----------------------------------------------------------------------------------------
def _sqlite_connect(name: str) -> sqlite3.Connection:
    return sqlite3.connect(name, uri=str(name).startswith("file:"))   # the test runner's shared memory db


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _sqlite_restore(chunks: Iterable[bytes], db: dict) -> None:
    path = Path(db["NAME"])
    if path.exists() and path.stat().st_size:
        raise BackupFailed(f"{path} exists and is not empty: restore only into an empty database")
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
    conn = sqlite3.connect(partial)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupFailed("the restored SQLite file fails its integrity check")
    finally:
        conn.close()
    partial.replace(path)
