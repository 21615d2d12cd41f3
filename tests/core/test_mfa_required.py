"""Staff, superusers, owners and finance admins enrol in TOTP before any admin page opens (issue 14, item 6)."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, TOTP, generate_totp_secret
from django.core.cache import cache
from django.urls import reverse

from expensico_sync.core.roles import Role
from tests.core.factories import make_member, make_org, make_user
from tests.core.test_login import PASSWORD, current_code

pytestmark = pytest.mark.django_db
ENROL = "/accounts/2fa/totp/activate/"


@pytest.fixture(autouse=True)
def _mfa_required(settings):
    settings.ADMIN_REQUIRE_MFA = True
    cache.clear()


@pytest.fixture
def org():
    return make_org("mfa-required")


def _login(client, username):
    response = client.post("/accounts/login/", {"login": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:1000]


@pytest.mark.parametrize("role", [Role.OWNER, Role.FINANCE_ADMIN])
def test_owner_and_finance_admin_are_sent_to_enrolment_from_every_admin_page(client, org, role):
    make_member(org, role, "fin")
    _login(client, "fin")
    for url in ("/admin/", reverse("admin:exports_exportrecord_changelist"),
                reverse("admin:core_organization_change", args=[org.pk]),
                reverse("admin:core_organization_rotate_webhook_secret", args=[org.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == ENROL, url
    assert client.post(reverse("admin:core_organization_rotate_webhook_secret", args=[org.pk]),
                       {"_form_submitted": "True"})["Location"] == ENROL


def test_superuser_without_membership_is_sent_to_enrolment(client):
    make_user("root", is_staff=True, is_superuser=True)
    _login(client, "root")
    assert client.get("/admin/")["Location"] == ENROL


def test_enrolment_then_recovery_codes_shown_once_then_the_admin_opens(client, org):
    user = make_member(org, Role.OWNER, "olive")
    _login(client, "olive")
    response = client.get(ENROL)  # allauth's own enrolment page: it asks for the password again first
    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/")
    client.post(response["Location"], {"password": PASSWORD})
    assert client.get(ENROL).status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(ENROL, {"code": current_code(secret)})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_view_recovery_codes")
    codes = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES).wrap().get_unused_codes()
    first = client.get(response["Location"]).content.decode()
    assert all(code in first for code in codes)
    again = client.get(reverse("mfa_view_recovery_codes")).content.decode()
    assert not any(code in again for code in codes), "recovery codes are shown once"
    assert client.get("/admin/").status_code == 200


def test_an_enrolled_person_gets_straight_in_after_the_second_factor(client, org):
    user = make_member(org, Role.FINANCE_ADMIN, "fred")
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    response = client.post("/accounts/login/", {"login": "fred", "password": PASSWORD})
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    client.post("/accounts/2fa/authenticate/", {"code": current_code(secret)})
    assert client.get("/admin/").status_code == 200


def test_a_reviewer_who_is_not_staff_is_not_asked(client, org):
    user = make_member(org, Role.REVIEWER, "rita")
    type(user).objects.filter(pk=user.pk).update(is_staff=False)
    _login(client, "rita")
    assert client.get("/admin/")["Location"] != ENROL


def test_the_setting_relaxes_it_for_development(client, org, settings):
    settings.ADMIN_REQUIRE_MFA = False
    make_member(org, Role.OWNER, "dev")
    _login(client, "dev")
    assert client.get("/admin/").status_code == 200


def test_production_settings_require_it_by_default(monkeypatch):
    import importlib

    import expensico_sync.settings as prod

    monkeypatch.delenv("ADMIN_REQUIRE_MFA", raising=False)
    try:
        assert importlib.reload(prod).ADMIN_REQUIRE_MFA is True
        monkeypatch.setenv("ADMIN_REQUIRE_MFA", "false")
        assert importlib.reload(prod).ADMIN_REQUIRE_MFA is False
    finally:
        monkeypatch.undo()
        importlib.reload(prod)


def test_make_run_lets_a_newcomer_straight_in():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "ADMIN_REQUIRE_MFA=false" in next(line for line in run.splitlines() if "devstack" in line)
