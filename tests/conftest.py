import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
# Sandboxes listen on loopback: worker subprocesses inherit the variable, and this process's settings
# (pytest-django has loaded them before this file) get the same list.
os.environ.setdefault("VENDOR_HOSTS_ALLOW", "127.0.0.1,localhost")
from django.conf import settings as _settings  # noqa: E402

_settings.VENDOR_HOSTS_ALLOW = [h for h in os.environ["VENDOR_HOSTS_ALLOW"].split(",") if h]
# Settings load before this file (settings.py defaults it under pytest); subprocesses inherit this.
os.environ.setdefault("EXPENSICO_HOSTS_ALLOW", "127.0.0.1,localhost")

ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "test-artifacts")


@pytest.fixture(scope="session", autouse=True)
def _no_retry_sleeps():
    import stamina

    stamina.set_testing(True, attempts=3)
    yield
    stamina.set_testing(False)


@pytest.fixture(autouse=True)
def _language_reset():
    """A request in Arabic leaves Arabic active in the thread (LocaleMiddleware activates, nothing
    deactivates): the next test in the same worker would read Arabic labels."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # Manifest storage + live_server gives unstyled pages; tests use plain storage.
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.ADMIN_REQUIRE_MFA = False  # tests/core/test_mfa_required.py turns it on
    from django.core.cache import cache

    cache.clear()  # locmem is process-wide: a cached dashboard or gap list must not outlive its test
    from expensico_sync.core.fields import fernet

    fernet.cache_clear()
    yield
    fernet.cache_clear()


@pytest.fixture
def artifacts_dir():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run"]}


def admin_login(page, live_server) -> None:
    """Log a real browser page in to the admin as a superuser, at a 1440×900 viewport."""
    from expensico_sync.core.services import admin_ensure

    admin_ensure(username="admin", email="admin@example.com", password="e2e-Password-42")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/admin/")
    page.fill("input[name=login]", "admin")
    page.fill("input[name=password]", "e2e-Password-42")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def admin_confirm(client, url, **extra):
    """POSTs the confirmation form of a state-changing admin action (as its page or dialog does)."""
    return client.post(url, {"_form_submitted": "True"}, **extra)
