"""Writes for organisations, people, keys and secrets. Keyword-only, one transaction each."""

import secrets

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction

from .fields import encrypted_fields, rotate
from .models import Membership, Organization, OrganizationAPIKey, new_webhook_secret
from .roles import Role


@transaction.atomic
def organization_create(*, slug: str, name: str, base_currency: str, country: str,
                        timezone: str = "UTC", mode: str = Organization.Mode.DRY_RUN) -> Organization:
    return Organization.objects.create(
        slug=slug, name=name, base_currency=base_currency.upper(), country=country.upper(),
        timezone=timezone, mode=mode,
    )


@transaction.atomic
def organization_rotate_webhook_secret(*, organization: Organization) -> str:
    """Makes a new signing secret; the old one stays valid until cleared (rotation window)."""
    organization.webhook_secret_previous = organization.webhook_secret
    organization.webhook_secret = new_webhook_secret()
    organization.save(update_fields=["webhook_secret", "webhook_secret_previous", "updated_at"])
    return organization.webhook_secret


@transaction.atomic
def membership_save(*, membership: Membership) -> Membership:
    """Members reach the admin, so they are staff; their rights come from the role."""
    user = membership.user
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    membership.save()
    return membership


def membership_grant(*, user, organization: Organization, role: str) -> Membership:
    membership = Membership.objects.filter(user=user, organization=organization).first()
    membership = membership or Membership(user=user, organization=organization)
    membership.role = role
    return membership_save(membership=membership)


@transaction.atomic
def api_key_create(*, organization: Organization, role: str, name: str) -> tuple[OrganizationAPIKey, str]:
    Role(role)  # raises ValueError on an unknown role
    return OrganizationAPIKey.objects.create_key(organization=organization, role=role, name=name)


def admin_ensure(*, username: str, email: str, password: str | None = None) -> tuple[object, str]:
    """Creates or updates a superuser; returns it with the password now in force."""
    User = get_user_model()
    password = password or secrets.token_urlsafe(12)
    with transaction.atomic():
        user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
        user.email = email
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
    return user, password


def encryption_keys_rotate() -> dict[str, int]:
    """Re-encrypts every stored secret under the newest key. Returns rows touched per model."""
    touched: dict[str, int] = {}
    for model in apps.get_models():
        fields = encrypted_fields(model)
        if not fields:
            continue
        count = 0
        names = [f.attname for f in fields]
        # Raw ciphertext in and out: MultiFernet.rotate never exposes the plaintext.
        for pk in model._base_manager.values_list("pk", flat=True).iterator():
            with transaction.atomic():
                raw = _raw_values(model, pk, names)
                updates = {n: rotate(v) for n, v in raw.items() if v}
                if updates:
                    _write_raw(model, pk, updates)
                    count += 1
        touched[model._meta.label] = count
    return touched


def _raw_values(model, pk, names):
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(model._meta.get_field(n).column) for n in names)
    pk_col = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cols} FROM {table} WHERE {pk_col} = %s", [pk])  # noqa: S608
        row = cursor.fetchone()
    return dict(zip(names, row, strict=True))


def _write_raw(model, pk, updates):
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    sets = ", ".join(f"{connection.ops.quote_name(model._meta.get_field(n).column)} = %s" for n in updates)
    pk_col = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {sets} WHERE {pk_col} = %s", [*updates.values(), pk])  # noqa: S608
