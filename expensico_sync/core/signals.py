from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def ensure_canary(sender, app_config=None, using="default", **kwargs):
    if app_config is None or app_config.label != "core":
        return
    from .models import EncryptionCanary

    if not EncryptionCanary.objects.using(using).exists():
        EncryptionCanary.objects.using(using).create(value=EncryptionCanary.PLAINTEXT)
