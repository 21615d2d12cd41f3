"""In a real browser: allauth's account pages (sign-in, two-factor setup and challenge, recovery
codes, re-authentication, email) wear the admin's Unfold look, offer no sign-up, and carry the
favicon. Screenshots go to test-artifacts/."""

import os

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)

from expensico_sync.core.services import admin_ensure

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "e2e-Password-42"


def _looks_like_the_admin(page):
    assert page.evaluate("getComputedStyle(document.body).fontFamily").lower().startswith("inter")
    assert page.locator("link[rel=icon][href$='expensico/favicon.svg']").count() == 1
    assert page.locator("text=expensico-sync").first.is_visible()  # the admin's own title
    assert page.locator("a", has_text="Sign Up").count() == 0 and "sign up" not in page.content().lower()


def _sign_in(page, live_server, login="admin"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_account_pages_wear_the_admin_look(page, live_server, artifacts_dir, settings):
    settings.ADMIN_REQUIRE_MFA = False
    admin_ensure(username="admin", email="admin@example.com", password=PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 860})
    shot = lambda name: page.screenshot(path=os.path.join(artifacts_dir, name), full_page=True)  # noqa: E731

    page.goto(f"{live_server.url}/accounts/login/")
    _looks_like_the_admin(page)
    shot("account-login.png")
    _sign_in(page, live_server)
    page.wait_for_url(f"{live_server.url}/admin/**")

    page.goto(f"{live_server.url}/accounts/2fa/")
    _looks_like_the_admin(page)
    shot("account-mfa-index.png")
    # Setting up two-factor asks for the password again first (re-authentication), then shows the QR code.
    page.goto(f"{live_server.url}/accounts/2fa/totp/activate/")
    page.wait_for_url("**/accounts/reauthenticate/**")
    _looks_like_the_admin(page)
    shot("account-reauthenticate.png")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    _looks_like_the_admin(page)
    assert page.locator("input[name=code]").is_visible()
    shot("account-mfa-setup.png")
    page.goto(f"{live_server.url}/accounts/email/")
    _looks_like_the_admin(page)
    shot("account-email.png")


def test_two_factor_challenge_and_recovery_codes_wear_the_admin_look(page, live_server, artifacts_dir, settings):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from django.contrib.auth import get_user_model

    admin_ensure(username="admin", email="admin@example.com", password=PASSWORD)
    user = get_user_model().objects.get(username="admin")
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    page.set_viewport_size({"width": 1280, "height": 860})

    _sign_in(page, live_server)
    page.wait_for_url(f"{live_server.url}/accounts/2fa/authenticate/**")
    _looks_like_the_admin(page)
    page.screenshot(path=os.path.join(artifacts_dir, "account-mfa-challenge.png"), full_page=True)
    now = list(yield_hotp_counters_from_time())[len(list(yield_hotp_counters_from_time())) // 2]
    page.fill("input[name=code]", f"{hotp_value(secret, now):06d}")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/**")

    page.goto(f"{live_server.url}/accounts/2fa/recovery-codes/")
    if "/reauthenticate/" in page.url:  # shown only after the password again
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/accounts/2fa/recovery-codes/")
    _looks_like_the_admin(page)
    assert page.locator("text=Recovery Codes").first.is_visible()
    page.screenshot(path=os.path.join(artifacts_dir, "account-recovery-codes.png"), full_page=True)
