import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from expensico_sync.core.checks import encryption_keys_check, production_keys_check
from expensico_sync.core.fields import EncryptionKeyError, fernet
from expensico_sync.core.models import EncryptionCanary, Organization
from expensico_sync.core.roles import Role
from expensico_sync.logging import redact
from tests.core.factories import make_member, make_org

KEY1, KEY2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
TOKEN = "tok-very-secret-4711"


def _use_keys(settings, keys):
    settings.FIELD_ENCRYPTION_KEYS = keys
    fernet.cache_clear()


@pytest.fixture(autouse=True)
def _canary_under_test_key(request, settings):
    """The migration wrote the canary with the development key; re-write it under KEY1."""
    if "db" in request.fixturenames or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
        _use_keys(settings, [KEY1])
        EncryptionCanary.objects.all().delete()
        EncryptionCanary.objects.create(value=EncryptionCanary.PLAINTEXT)


def _raw(org, column):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM core_organization WHERE id = %s", [org.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_stored_value_is_ciphertext_and_reads_back(settings):
    _use_keys(settings, [KEY1])
    org = make_org(expensico_api_token=TOKEN)
    assert TOKEN not in _raw(org, "expensico_api_token")
    assert Organization.objects.get(pk=org.pk).expensico_api_token == TOKEN


@pytest.mark.django_db
def test_wrong_key_raises_and_never_returns_ciphertext(settings):
    _use_keys(settings, [KEY1])
    org = make_org(expensico_api_token=TOKEN)
    _use_keys(settings, [KEY2])
    with pytest.raises(EncryptionKeyError):
        Organization.objects.get(pk=org.pk)


@pytest.mark.django_db
def test_rotation_reencrypts_and_old_rows_still_read(settings):
    _use_keys(settings, [KEY1])
    org = make_org(expensico_api_token=TOKEN)
    before = _raw(org, "expensico_api_token")
    _use_keys(settings, [KEY2, KEY1])
    assert Organization.objects.get(pk=org.pk).expensico_api_token == TOKEN  # old key still reads
    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))
    assert _raw(org, "expensico_api_token") != before
    _use_keys(settings, [KEY2])  # old key dropped
    reread = Organization.objects.get(pk=org.pk)
    assert reread.expensico_api_token == TOKEN
    assert reread.webhook_secret.startswith("whsec_")


@pytest.mark.django_db
def test_startup_check_fails_on_missing_or_wrong_keys(settings):
    assert encryption_keys_check() == []
    _use_keys(settings, [KEY2])
    assert [e.id for e in encryption_keys_check()] == ["core.E002"]
    _use_keys(settings, [])
    assert [e.id for e in encryption_keys_check()] == ["core.E001"]
    _use_keys(settings, ["not-a-fernet-key"])
    assert [e.id for e in encryption_keys_check()] == ["core.E001"]


def test_deploy_check_refuses_the_development_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = [settings.DEV_FIELD_ENCRYPTION_KEY]
    assert [e.id for e in production_keys_check()] == ["core.E003"]
    settings.FIELD_ENCRYPTION_KEYS = [KEY1]
    assert production_keys_check() == []


@pytest.mark.django_db
def test_plaintext_never_reaches_admin_api_history_or_logs(client, settings, caplog):
    _use_keys(settings, [KEY1])
    caplog.set_level(logging.DEBUG)
    org = make_org()
    owner = make_member(org, Role.OWNER)
    client.force_login(owner)
    # Set the token through the API (write-only), then through the admin form.
    response = client.patch(f"/api/v1/organizations/{org.pk}/", {"expensico_api_token": TOKEN},
                            content_type="application/json")
    assert response.status_code == 200, response.content
    assert TOKEN not in response.content.decode()
    org.refresh_from_db()
    assert org.expensico_api_token == TOKEN
    secret = org.webhook_secret

    for url in (f"/admin/core/organization/{org.pk}/change/", "/admin/core/organization/",
                f"/admin/core/organization/{org.pk}/history/", f"/api/v1/organizations/{org.pk}/",
                "/api/v1/organizations/", "/api/v1/me"):
        body = client.get(url).content.decode()
        assert TOKEN not in body, url
        assert secret not in body, url

    # Blank on save keeps the stored secret (write-only form field).
    form = {"name": org.name, "slug": org.slug, "mode": org.mode, "base_currency": "SAR", "country": "SA",
            "timezone": "UTC", "webhook_secret": "", "webhook_secret_previous": "", "expensico_api_base_url": "",
            "expensico_api_token": "", "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    response = client.post(f"/admin/core/organization/{org.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    org.refresh_from_db()
    assert org.expensico_api_token == TOKEN and org.webhook_secret == secret

    for row in org.history.all().values():
        assert TOKEN not in str(row) and secret not in str(row)
    assert TOKEN not in caplog.text and secret not in caplog.text


def test_log_redaction_by_key_and_shape():
    event = {"event": "calling Bearer abc.def", "api_key": "k", "nested": {"client_secret": "s"},
             "note": "whsec_AAAA=", "ok": "fine"}
    out = redact(event)
    assert out["api_key"] == out["nested"]["client_secret"] == "[redacted]"
    assert "abc.def" not in out["event"] and "whsec_AAAA" not in out["note"]
    assert out["ok"] == "fine"
