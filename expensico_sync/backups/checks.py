from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security)
def backup_keys_check(app_configs=None, **kwargs):
    errors = []
    for index, key in enumerate(settings.BACKUP_ENCRYPTION_KEYS):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(Error(f"BACKUP_ENCRYPTION_KEYS[{index}] is not a Fernet key.", id="backups.E001",
                                hint="Generate one with cryptography.fernet.Fernet.generate_key()."))
    if set(settings.BACKUP_ENCRYPTION_KEYS) & set(settings.FIELD_ENCRYPTION_KEYS):
        errors.append(Error("A backup key is also a field-encryption key: a stolen backup must need a "
                            "second secret.", id="backups.E002"))
    return errors


@register(Tags.security, deploy=True)
def production_backup_key_check(app_configs=None, **kwargs):
    if settings.DEV_BACKUP_ENCRYPTION_KEY in settings.BACKUP_ENCRYPTION_KEYS:
        return [Error("The development backup key is configured.", id="backups.E003",
                      hint="Set BACKUP_ENCRYPTION_KEYS to your own Fernet key (keep it outside the database "
                           "host).")]
    return []
