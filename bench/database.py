"""The benchmarks' PostgreSQL database: a fresh copy of a migrated template per run, and Django
set up on it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def _admin_sql(statements: list[str]) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


def _exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def database_prepare(name: str) -> str:
    """A fresh copy of a migrated template: every run starts from the same empty state."""
    template = f"{name}_tpl"
    env = {**os.environ, "DATABASE_URL": f"{PG}/{template}", "Q_SYNC": "false"}
    if not _exists(template):
        _admin_sql([f'CREATE DATABASE "{template}"'])
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    _admin_sql([f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN ('{name}', '{template}')"
                " AND pid <> pg_backend_pid()",
                f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}" TEMPLATE "{template}"'])
    return f"{PG}/{name}"


def django_setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("Q_SYNC", "false")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expensico_sync.settings")
    import django

    django.setup()
