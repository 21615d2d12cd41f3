"""Secrets at rest: a MultiFernet text field.

The key list comes from FIELD_ENCRYPTION_KEYS (newest first). Encryption always uses the
newest key; decryption tries each. A value no key can decrypt raises: we never hand ciphertext
back as if it were the secret.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class EncryptionKeyError(ImproperlyConfigured):
    """No configured key can decrypt a stored secret (or the key list is unusable)."""


@cache
def fernet() -> MultiFernet:
    keys = [k for k in settings.FIELD_ENCRYPTION_KEYS if k]
    if not keys:
        raise EncryptionKeyError("FIELD_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except (ValueError, TypeError) as exc:
        raise EncryptionKeyError(f"FIELD_ENCRYPTION_KEYS holds a malformed key: {exc}") from exc


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise EncryptionKeyError(
            "A stored secret cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS "
            "(wrong or missing key)."
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypts a stored token under the newest key."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise EncryptionKeyError("Cannot rotate a secret that no configured key decrypts.") from exc


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; the Python value is the plaintext. Blank stays blank."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)


def encrypted_fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
