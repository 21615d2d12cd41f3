"""The backup file format: the dump, encrypted in authenticated chunks before it leaves the process.

    b"EXSBK1\n" then records of (8-byte big-endian length, Fernet token). Each token's plaintext
    starts with one byte: b"D" a chunk of the dump, b"M" the manifest (JSON, last record).

Fernet authenticates every chunk (a changed byte is refused); the manifest inside the file carries
the SHA-256 of the whole plaintext and the chunk count, so reordered, dropped or truncated chunks
are refused too. The keys (`BACKUP_ENCRYPTION_KEYS`, newest first) are not the field-encryption
keys: a stolen backup and a stolen database need two different secrets.
"""

import hashlib
import json
import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

MAGIC = b"EXSBK1\n"
CHUNK = 4 * 1024 * 1024
_LENGTH = struct.Struct(">Q")


class BackupRefused(Exception):
    """The file cannot be restored: wrong key, altered, truncated or not a backup at all."""


def keys() -> MultiFernet:
    configured = [k for k in settings.BACKUP_ENCRYPTION_KEYS if k]
    if not configured:
        raise BackupRefused("BACKUP_ENCRYPTION_KEYS is empty: set at least one Fernet key")
    return MultiFernet([Fernet(k) for k in configured])


def encrypt(chunks: Iterable[bytes], out: BinaryIO, manifest: dict) -> dict:
    """Writes the encrypted file; returns the manifest with sha256/size/chunks filled in."""
    fernet = keys()
    digest, size, count = hashlib.sha256(), 0, 0
    out.write(MAGIC)
    for chunk in chunks:
        if not chunk:
            continue
        digest.update(chunk)
        size += len(chunk)
        count += 1
        _record(out, fernet.encrypt(b"D" + chunk))
    manifest = {**manifest, "sha256": digest.hexdigest(), "size": size, "chunks": count}
    _record(out, fernet.encrypt(b"M" + json.dumps(manifest, sort_keys=True).encode()))
    return manifest


def decrypt(source: BinaryIO) -> tuple[Iterator[bytes], dict]:
    """Verifies the whole file first (nothing is restored from a file that fails), then returns a
    fresh iterator over the plaintext chunks and the manifest stored inside the file."""
    manifest = _verify(source)

    def plain() -> Iterator[bytes]:
        source.seek(0)
        for kind, body in _records(source):
            if kind == b"D":
                yield body
    return plain(), manifest


def _verify(source: BinaryIO) -> dict:
    digest, size, count, manifest = hashlib.sha256(), 0, 0, None
    for kind, body in _records(source):
        if manifest is not None:
            raise BackupRefused("data after the manifest: the file was altered")
        if kind == b"D":
            digest.update(body)
            size += len(body)
            count += 1
        elif kind == b"M":
            manifest = json.loads(body)
        else:
            raise BackupRefused("unknown record in the backup: the file was altered")
    if manifest is None:
        raise BackupRefused("the backup has no manifest: it is truncated or incomplete")
    if (manifest.get("sha256"), manifest.get("size"), manifest.get("chunks")) != (digest.hexdigest(), size, count):
        raise BackupRefused("the backup's content does not match its manifest: chunks were altered, "
                            "reordered or dropped")
    return manifest


def _records(source: BinaryIO) -> Iterator[tuple[bytes, bytes]]:
    source.seek(0)
    if source.read(len(MAGIC)) != MAGIC:
        raise BackupRefused("not an expensico-sync backup (bad header)")
    fernet = keys()
    while header := source.read(_LENGTH.size):
        if len(header) != _LENGTH.size:
            raise BackupRefused("the backup is truncated")
        (length,) = _LENGTH.unpack(header)
        token = source.read(length)
        if len(token) != length:
            raise BackupRefused("the backup is truncated")
        try:
            plain = fernet.decrypt(token)
        except InvalidToken:
            raise BackupRefused("cannot decrypt the backup: wrong BACKUP_ENCRYPTION_KEYS, or the file "
                                "was altered") from None
        yield plain[:1], plain[1:]


def _record(out: BinaryIO, token: bytes) -> None:
    out.write(_LENGTH.pack(len(token)))
    out.write(token)
