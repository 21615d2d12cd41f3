"""Start-up checks: refuse to run with keys that cannot read what is stored."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError

from .fields import EncryptionKeyError, fernet


@register(Tags.security)
def encryption_keys_check(app_configs=None, **kwargs):
    try:
        fernet.cache_clear()
        fernet()
    except EncryptionKeyError as exc:
        return [Error(str(exc), id="core.E001", hint="FIELD_ENCRYPTION_KEYS=<Fernet.generate_key()>,…")]
    from .models import EncryptionCanary

    try:
        canary = EncryptionCanary.objects.order_by("pk").first()
    except EncryptionKeyError as exc:
        return [Error(str(exc), id="core.E002", hint="Restore the key that encrypted existing rows.")]
    except DatabaseError:
        return []  # not migrated yet: nothing stored that could be unreadable
    if canary is not None and canary.value != EncryptionCanary.PLAINTEXT:
        return [Error("The encryption canary decrypted to the wrong value.", id="core.E002")]
    return []


@register(Tags.security, deploy=True)
def production_keys_check(app_configs=None, **kwargs):
    if settings.DEV_FIELD_ENCRYPTION_KEY in settings.FIELD_ENCRYPTION_KEYS:
        return [Error("The development encryption key is configured.", id="core.E003",
                      hint="Generate a key with cryptography.fernet.Fernet.generate_key().")]
    return []
