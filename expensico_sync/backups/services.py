"""Backup, restore and the restore drill (docs/runbook.md says when to use which)."""

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import environ
import structlog
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from . import crypto, dump
from .models import BackupRun
from .signals import backup_failed
from .targets import target as backup_target

log = structlog.get_logger(__name__)
SUFFIX = ".backup"
FORMAT = 1


def schema_version(alias: str) -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in sorted(MigrationRecorder(connections[alias]).applied_migrations()):
        latest[app] = max(latest.get(app, ""), name)
    return latest


def backup(*, target_url: str | None = None, alias: str = "default") -> BackupRun:
    destination = backup_target(target_url)
    run = BackupRun.objects.create(kind=BackupRun.Kind.BACKUP, target=str(destination))
    try:
        db = connections[alias].settings_dict
        name = f"expensico-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}{SUFFIX}"
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / name
            with dump.snapshot(db) as (counts, chunks), path.open("wb") as out:
                manifest = {"format": FORMAT, "name": name, "engine": dump.engine(db),
                            "created_at": timezone.now().isoformat(), "schema": schema_version(alias),
                            "row_counts": counts}
                manifest = crypto.encrypt(chunks, out, manifest)
            destination.put(name, path)
            manifest_path = Path(scratch) / f"{name}.manifest.json"
            manifest_path.write_text(_public_manifest(manifest, path))
            destination.put(manifest_path.name, manifest_path)
        return _finish(run, name=name, size=manifest["size"], sha256=manifest["sha256"],
                       row_counts=manifest["row_counts"])
    except Exception as exc:
        return _fail(run, exc)


def latest(target_url: str | None = None) -> str:
    names = [n for n in backup_target(target_url).names() if n.endswith(SUFFIX)]
    if not names:
        raise dump.BackupFailed(f"no backup in {backup_target(target_url)}")
    return names[-1]


def restore(name: str | None = None, *, into: dict, target_url: str | None = None) -> dict:
    """Restores backup `name` (a name in the target, or a local file path; default: the latest)
    into the database described by `into` (Django settings dict), which must be empty. Returns the
    manifest. Raises crypto.BackupRefused for a wrong key or an altered file, before touching `into`."""
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(name) if name and Path(name).is_file() else Path(scratch) / "backup"
        if not (name and Path(name).is_file()):
            backup_target(target_url).fetch(name or latest(target_url), local)
        with local.open("rb") as fh:
            chunks, manifest = crypto.decrypt(fh)
            if manifest.get("engine") != dump.engine(into):
                raise dump.BackupFailed(f"a {manifest.get('engine')} backup cannot be restored into "
                                        f"{dump.engine(into)}")
            dump.restore(chunks, into)
    return manifest


def database_from_url(url: str) -> dict:
    config = environ.Env.db_url_config(url)
    return {**connections["default"].settings_dict, **config}


def drill(*, target_url: str | None = None) -> BackupRun:
    """Restores the latest backup into a scratch database and checks it against its manifest."""
    run = BackupRun.objects.create(kind=BackupRun.Kind.DRILL, target=str(backup_target(target_url)))
    live = connections["default"].settings_dict
    scratch_dir = tempfile.TemporaryDirectory()
    try:
        name = latest(target_url)
        run.name = name
        if dump.engine(live) == "postgresql":
            scratch = dump.pg_create(live, f"{live['NAME']}_restore_drill")
        else:
            scratch = {**live, "NAME": str(Path(scratch_dir.name) / "drill.sqlite3")}
        try:
            manifest = restore(name, into=scratch, target_url=target_url)
            counts = dump.table_counts(scratch)
        finally:
            if dump.engine(live) == "postgresql":
                dump.pg_drop(live, scratch["NAME"])
        wrong = {label: (n, counts.get(label)) for label, n in manifest["row_counts"].items() if counts.get(label) != n}
        if wrong:
            raise dump.BackupFailed(f"restored row counts differ from the manifest: {wrong}")
        return _finish(run, name=name, size=manifest["size"], sha256=manifest["sha256"], row_counts=counts,
                       detail=f"restored {sum(counts.values())} rows; counts and SHA-256 match the manifest")
    except Exception as exc:
        return _fail(run, exc)
    finally:
        scratch_dir.cleanup()


def _public_manifest(manifest: dict, encrypted: Path) -> str:
    import hashlib
    import json

    digest = hashlib.sha256()
    with encrypted.open("rb") as fh:
        while block := fh.read(crypto.CHUNK):
            digest.update(block)
    return json.dumps({**manifest, "encrypted_sha256": digest.hexdigest(),
                       "encrypted_size": encrypted.stat().st_size}, indent=2, sort_keys=True)


def _finish(run: BackupRun, **fields) -> BackupRun:
    for key, value in fields.items():
        setattr(run, key, value)
    run.status, run.finished_at = BackupRun.Status.OK, timezone.now()
    run.save()
    log.info("backup.ok", kind=run.kind, name=run.name, target=run.target)
    return run


def _fail(run: BackupRun, exc: Exception) -> BackupRun:
    run.status, run.finished_at, run.detail = BackupRun.Status.FAILED, timezone.now(), f"{type(exc).__name__}: {exc}"
    run.save()
    log.error("backup.failed", kind=run.kind, name=run.name, target=run.target, error=run.detail)
    backup_failed.send(sender=BackupRun, run=run)
    return run
