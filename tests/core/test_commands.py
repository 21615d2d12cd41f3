import os
import subprocess
import sys
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from expensico_sync.core.models import Organization, OrganizationAPIKey

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_organization_prints_the_secret_once():
    out = run("create_organization", "--slug", "acme", "--name", "Acme", "--base-currency", "kwd",
              "--country", "kw")
    org = Organization.objects.get(slug="acme")
    assert org.base_currency == "KWD" and org.country == "KW"
    assert f"webhook secret: {org.webhook_secret}" in out
    with pytest.raises(CommandError, match="--slug"):
        run("create_organization", "--slug", "acme", "--name", "Again", "--base-currency", "KWD", "--country", "KW")
    with pytest.raises(CommandError, match="--base-currency"):
        run("create_organization", "--slug", "x", "--name", "X", "--base-currency", "KWDX", "--country", "KW")


def test_create_api_key_prints_a_working_key(client):
    run("create_organization", "--slug", "acme", "--name", "Acme", "--base-currency", "SAR", "--country", "SA")
    out = run("create_api_key", "--org", "acme", "--role", "finance_admin", "--name", "erp")
    key = out.split(": ", 1)[1].split()[0]
    api_key = OrganizationAPIKey.objects.get()
    assert api_key.role == "finance_admin" and key.startswith(api_key.prefix)
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
    with pytest.raises(CommandError, match="--org"):
        run("create_api_key", "--org", "nope", "--role", "viewer", "--name", "x")


def test_create_admin_is_idempotent(tmp_path, client):
    pw_file = tmp_path / "pw"
    first = run("create_admin", "--password-file", str(pw_file))
    second = run("create_admin", "--password-file", str(pw_file))
    assert first == second
    password = first.strip().rsplit(" / ", 1)[1]
    assert client.login(username="admin", password=password)


def test_check_deploy_passes_with_production_variables():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update({
        "DEBUG": "false", "SECRET_KEY": "p" * 20 + Fernet.generate_key().decode(),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(), "ALLOWED_HOSTS": "sync.example.com",
        "BACKUP_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SESSION_COOKIE_SECURE": "true", "SECURE_SSL_REDIRECT": "true", "SECURE_HSTS_SECONDS": "31536000",
        "BEHIND_PROXY": "true", "DATABASE_URL": f"sqlite:///{settings.VAR_DIR}/deploy-check.sqlite3",
    })
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    # And the development defaults are refused.
    env.pop("FIELD_ENCRYPTION_KEYS")
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=settings.BASE_DIR,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "core.E003" in result.stderr
    assert "backups.E003" not in result.stderr
    env["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    env.pop("BACKUP_ENCRYPTION_KEYS")
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=settings.BASE_DIR,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "backups.E003" in result.stderr
