"""Failed logins are limited per address and per address + login, never per login alone (issue 14, item 7)."""

import importlib

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.cache import cache
from django.test import Client

from expensico_sync.core.roles import Role
from tests.core.factories import make_member, make_org
from tests.core.test_login import PASSWORD, current_code

pytestmark = pytest.mark.django_db
TOO_MANY = b"Too many failed login attempts"
ATTACKER, OWNER_HOME = "203.0.113.7", "198.51.100.20"


@pytest.fixture(autouse=True)
def _mfa_on(settings):
    settings.ADMIN_REQUIRE_MFA = True
    cache.clear()


@pytest.fixture
def victim():
    user = make_member(make_org("lockout"), Role.OWNER, "victim")
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def _fail(client, login, times, **extra):
    for _ in range(times):
        response = client.post("/accounts/login/", {"login": login, "password": "wrong"}, **extra)
        assert response.status_code == 200


def test_someone_elses_failures_do_not_lock_the_owner_out(victim):
    _fail(Client(REMOTE_ADDR=ATTACKER), "victim", 8)
    attacker = Client(REMOTE_ADDR=ATTACKER)
    assert TOO_MANY in attacker.post("/accounts/login/", {"login": "victim", "password": PASSWORD}).content

    owner = Client(REMOTE_ADDR=OWNER_HOME)
    response = owner.post("/accounts/login/?next=/admin/", {"login": "victim", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/authenticate/")
    owner.post("/accounts/2fa/authenticate/", {"code": current_code(victim)})
    assert owner.get("/admin/").status_code == 200


def test_failures_from_one_address_beyond_the_limit_are_refused_for_every_login(victim):
    client = Client(REMOTE_ADDR=ATTACKER)
    for n in range(10):  # 10/m per address, spread over logins so the per-login limit never trips
        _fail(client, f"guess{n}", 1)
    response = client.post("/accounts/login/", {"login": "victim", "password": PASSWORD})
    assert TOO_MANY in response.content
    assert client.get("/admin/").status_code == 302


def test_five_failures_for_one_login_from_one_address_are_refused(victim):
    client = Client(REMOTE_ADDR=ATTACKER)
    _fail(client, "victim", 5)
    assert TOO_MANY in client.post("/accounts/login/", {"login": "victim", "password": PASSWORD}).content


def test_behind_a_proxy_the_forwarded_client_address_counts(victim, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    _fail(Client(**proxy), "victim", 8, headers={"X-Forwarded-For": ATTACKER})
    owner = Client(**proxy)
    response = owner.post("/accounts/login/", {"login": "victim", "password": PASSWORD},
                          headers={"X-Forwarded-For": OWNER_HOME})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/authenticate/")


@pytest.fixture
def reload_settings(monkeypatch):
    import expensico_sync.settings as module

    yield lambda: importlib.reload(module)
    monkeypatch.undo()
    importlib.reload(module)


def test_behind_proxy_trusts_one_proxy_unless_told_how_many(monkeypatch, reload_settings):
    monkeypatch.delenv("NUM_PROXIES", raising=False)
    monkeypatch.setenv("BEHIND_PROXY", "true")
    assert reload_settings().ALLAUTH_TRUSTED_PROXY_COUNT == 1
    monkeypatch.setenv("NUM_PROXIES", "2")
    assert reload_settings().ALLAUTH_TRUSTED_PROXY_COUNT == 2
    monkeypatch.delenv("BEHIND_PROXY")
    monkeypatch.delenv("NUM_PROXIES")
    assert reload_settings().ALLAUTH_TRUSTED_PROXY_COUNT == 0
