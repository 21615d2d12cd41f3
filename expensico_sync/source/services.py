"""Writes for the Expensico side that are not part of intake (see intake.py, mirror.py, pull.py)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from expensico_sync.core.models import Organization


@transaction.atomic
def expensico_source_configure(*, organization: Organization, base_url: str, token: str | None = None) -> Organization:
    """Points an organisation's pull client (and receipt downloads) at an Expensico API.

    `token=None` keeps the stored token only while the URL stays on the same scheme, host and port
    (the model clears it otherwise). A host that is not allowed raises ValidationError naming the field.
    """
    base_url = base_url.rstrip("/")
    try:
        Organization._meta.get_field("expensico_api_base_url").run_validators(base_url)
    except ValidationError as exc:
        raise ValidationError({"expensico_api_base_url": exc.messages}) from None
    organization.expensico_api_base_url = base_url
    if token is not None:
        organization.expensico_api_token = token
    organization.save(update_fields=["expensico_api_base_url", "expensico_api_token", "updated_at"])
    return organization
