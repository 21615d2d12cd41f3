"""What access reviews and alerts know about vendor credentials (registered in apps.ready)."""

from django.urls import reverse

from .models import Connection


def vendor_credentials(organization, now) -> list[dict]:
    rows = []
    for connection in Connection.objects.filter(organization=organization).order_by("name"):
        if not (connection.api_key or connection.client_secret):
            continue
        rows.append({"name": connection.name, "kind": "client secret" if connection.client_secret else "API key",
                     "changed_at": connection.credentials_changed_at, "expires_on": connection.credentials_expire_on,
                     "link": reverse("admin:connectors_connection_change", args=[connection.pk])})
    return rows
