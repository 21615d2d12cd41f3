"""People log in through allauth (admin included), with TOTP and recovery codes."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.core.cache import cache

from expensico_sync.core.roles import Role
from tests.core.factories import make_member, make_org

pytestmark = pytest.mark.django_db
PASSWORD = "pw-Correct-horse-9"


def current_code(secret):
    import time

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()


@pytest.fixture
def member():
    return make_member(make_org("mfa-org"), Role.FINANCE_ADMIN, "fiona")


def test_admin_login_goes_through_allauth(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_totp_enrolment_and_login_end_to_end(client, member):
    # 1. Password login, then enrol TOTP through allauth's own pages.
    response = client.post("/accounts/login/", {"login": "fiona", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    response = client.get("/accounts/2fa/totp/activate/")
    if response.status_code == 302:  # allauth asks for the password again before enrolment
        assert response["Location"].startswith("/accounts/reauthenticate/")
        client.post(response["Location"], {"password": PASSWORD})
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post("/accounts/2fa/totp/activate/", {"code": current_code(secret)})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Authenticator.objects.filter(user=member, type=Authenticator.Type.TOTP).exists()
    client.post("/accounts/logout/")

    # 2. The password alone no longer gets in: a second step is asked for.
    response = client.post("/accounts/login/?next=/admin/", {"login": "fiona", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert client.get("/admin/").status_code == 302  # still anonymous

    response = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert client.get("/admin/").status_code == 302  # wrong code: still out

    response = client.post("/accounts/2fa/authenticate/", {"code": current_code(secret)})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_recovery_code_logs_in(client, member):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(member, generate_totp_secret())
    codes = RecoveryCodes.activate(member).get_unused_codes()
    client.post("/accounts/login/", {"login": "fiona", "password": PASSWORD})
    response = client.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert codes[0] not in RecoveryCodes(Authenticator.objects.get(
        user=member, type=Authenticator.Type.RECOVERY_CODES)).get_unused_codes()


def test_failed_logins_are_rate_limited(client, member):
    for _ in range(5):
        response = client.post("/accounts/login/", {"login": "fiona", "password": "wrong"})
        assert response.status_code == 200 and b"Too many" not in response.content
    # Now even the right password is refused until the window passes.
    response = client.post("/accounts/login/", {"login": "fiona", "password": PASSWORD})
    assert b"Too many failed login attempts" in response.content
    assert client.get("/admin/").status_code == 302


def test_login_floods_get_429(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    statuses = [client.post("/accounts/login/", {"login": "x", "password": "y"}).status_code for _ in range(4)]
    assert statuses[-1] == 429


def test_nobody_signs_up(client):
    response = client.post("/accounts/signup/", {"username": "eve", "email": "eve@example.com",
                                                 "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 200
    assert b"closed" in response.content.lower()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="eve").exists()
