"""Writes for the Expensico side that are not part of intake (see intake.py, mirror.py, pull.py)."""

from django.db import transaction

from expensico_sync.core.models import Organization


@transaction.atomic
def expensico_source_configure(*, organization: Organization, base_url: str, token: str) -> Organization:
    """Points an organisation's pull client (and receipt downloads) at an Expensico API."""
    organization.expensico_api_base_url = base_url.rstrip("/")
    organization.expensico_api_token = token
    organization.save(update_fields=["expensico_api_base_url", "expensico_api_token", "updated_at"])
    return organization
