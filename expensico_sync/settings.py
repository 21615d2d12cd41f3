"""Settings, read from the environment only (django-environ).

Defaults give the embedded shape: SQLite under var/, the django-q2 ORM broker and the
database cache. Setting REDIS_URL switches broker and cache to Redis.
"""

import sys
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))  # a second devstack, a test
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The development fallbacks are deliberately unusable in production: check --deploy flags them.
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-dev-only-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Fernet keys, newest first. The dev default is a fixed key so `make run` works out of the box;
# production must set its own (the system check refuses the dev key when DEBUG is off).
DEV_FIELD_ENCRYPTION_KEY = "bm90LWEtcmVhbC1rZXktZGV2LW9ubHktMzJieXRlcyE="
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[DEV_FIELD_ENCRYPTION_KEY])
# Backups (expensico_sync/backups, docs/runbook.md): their own Fernet keys, newest first, never the
# field keys; the dev default is refused by `check --deploy` like the field key.
DEV_BACKUP_ENCRYPTION_KEY = "ZGV2LW9ubHktYmFja3VwLWtleS1ub3QtZm9yLXByb2Q="
BACKUP_ENCRYPTION_KEYS = env.list("BACKUP_ENCRYPTION_KEYS", default=[DEV_BACKUP_ENCRYPTION_KEY])

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.import_export",
    "unfold.contrib.simple_history",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_q",
    "simple_history",
    "import_export",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "expensico_sync.core",
    "expensico_sync.source",
    "expensico_sync.backups",
    "expensico_sync.notify",
    "expensico_sync.retention",
    "expensico_sync.access_reviews",
    "connectors",
    "mappings",
    "exports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "expensico_sync.core.mfa.AdminMFAEnrolmentMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "expensico_sync.urls"
WSGI_APPLICATION = "expensico_sync.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "expensico_sync.core.context.admin_look",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # WAL and a busy timeout let the web process and the worker share the embedded database.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE",
         "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                          "LOCATION": "expensico_cache"}}

# timeout < retry, or django-q2 re-delivers tasks that are still running.
Q_CLUSTER = {
    "name": env.str("Q_CLUSTER_NAME", default="expensico"),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=120),
    "retry": env.int("Q_RETRY", default=180),
    "max_attempts": 3,
    "save_limit": 500,
    "poll": 0.5,
    "catch_up": False,
    "recycle": 500,
    "ack_failures": True,
    # django-q2's app name (its AppConfig.verbose_name) in the admin's app list and breadcrumbs: lazy, so
    # it reads in the admin's language (the Arabic is in locale_packages/ar, django-q2 ships none).
    "label": gettext_lazy("Tasks"),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# Tests run tasks inline (so transactions, responses and time-machine apply to them).
Q_CLUSTER["sync"] = env.bool("Q_SYNC", default="pytest" in sys.modules)
# Export engine timing; reliability tests and benchmarks shorten these for worker subprocesses.
EXPORTS_LEASE_SECONDS = env.int("EXPORTS_LEASE_SECONDS", default=300)
EXPORTS_BACKOFF_BASE_SECONDS = env.float("EXPORTS_BACKOFF_BASE_SECONDS", default=30)
# Hosts besides each vendor's own that may receive vendor credentials (sandboxes: 127.0.0.1,localhost).
# Nothing is implied by DEBUG: development and tests set it explicitly.
VENDOR_HOSTS_ALLOW = env.list("VENDOR_HOSTS_ALLOW", default=[])
# Hosts the Expensico side may reach besides Expensico's own API host (comma-separated names or
# addresses): `make run`, bench/chaos.py and the tests name the loopback simulator. DEBUG implies nothing.
EXPENSICO_HOSTS_ALLOW = env.list("EXPENSICO_HOSTS_ALLOW",
                                 default=["127.0.0.1", "localhost"] if "pytest" in sys.modules else [])
# Receipt downloads from Expensico: bytes and total seconds per file.
RECEIPT_MAX_BYTES = env.int("RECEIPT_MAX_BYTES", default=20 * 1024 * 1024)
RECEIPT_DEADLINE_SECONDS = env.float("RECEIPT_DEADLINE_SECONDS", default=120)
# Changelists estimated by the planner above this many rows ("about 1.2 M"), counted below.
ADMIN_ESTIMATED_COUNT_ABOVE = env.int("ADMIN_ESTIMATED_COUNT_ABOVE", default=100_000)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# allauth: accounts are created by operators (create_admin, the admin); nobody signs up.
ACCOUNT_ADAPTER = "expensico_sync.core.auth.ClosedSignupAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
# "key" is the client address plus the login (core/auth.py): nobody can lock a person out from elsewhere.
ACCOUNT_RATE_LIMITS = {"login_failed": env.str("LOGIN_RATE_LIMIT", default="10/m/ip,5/5m/key")}
# Behind a proxy every request comes from the proxy: count it, so limits use the client's address.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("NUM_PROXIES", default=0) or int(env.bool("BEHIND_PROXY", False))
ACCOUNT_LOGOUT_ON_GET = False
LOGIN_REDIRECT_URL = "/admin/"
LOGIN_URL = "/accounts/login/"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_RECOVERY_CODES_SHOW_ONCE = True
# Staff, owners and finance admins must enrol in TOTP before the admin opens; `make run` relaxes it.
ADMIN_REQUIRE_MFA = env.bool("ADMIN_REQUIRE_MFA", default=True)
MFA_TOTP_ISSUER = "expensico-sync"

LANGUAGE_CODE = "en-gb"
# The admin in English or Arabic (right to left): the switcher sits in the user menu; every string
# of ours has its Arabic in locale/ar (tests/core/test_translations.py keeps it complete).
LANGUAGES = [("en-gb", "English"), ("ar", "العربية")]
# locale_packages: Arabic for the installed packages' strings they ship none for (django-unfold's filters,
# buttons, search, pagination); kept by hand, `make messages` leaves it alone, ours comes first.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_packages"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request otherwise
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
BACKUP_TARGET = env.str("BACKUP_TARGET", default=str(VAR_DIR / "backups"))
BACKUP_S3_ENDPOINT_URL = env.str("BACKUP_S3_ENDPOINT_URL", default="")
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": env.str(
        "STATICFILES_BACKEND", default="whitenoise.storage.CompressedManifestStaticFilesStorage")},
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="expensico-sync@localhost")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Links in emails (digests, alerts, unsubscribe) start with this.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Where the development mail catcher (`manage.py mailcatcher`, started by `make run`) keeps what it
# caught; the admin shows it under Monitoring → Caught mail. Empty in production.
MAIL_CATCHER_DIR = env.str("MAIL_CATCHER_DIR", default="")
# Alerts (exports/alerts.py): a backlog older than this with nothing exported; an error-rate spike.
# Access reviews (expensico_sync/access_reviews): how often, and what counts as stale.
ACCESS_REVIEW_MONTHS = env.int("ACCESS_REVIEW_MONTHS", default=3)
ACCESS_REVIEW_INACTIVE_DAYS = env.int("ACCESS_REVIEW_INACTIVE_DAYS", default=90)
ACCESS_REVIEW_CREDENTIAL_MAX_AGE_DAYS = env.int("ACCESS_REVIEW_CREDENTIAL_MAX_AGE_DAYS", default=365)
# Scheduled reports: how long an emailed download link works.
REPORT_LINK_DAYS = env.int("REPORT_LINK_DAYS", default=7)
# The value metrics (exports/metrics.py): minutes a person would spend keying one document by hand.
METRICS_MINUTES_PER_DOCUMENT = env.int("METRICS_MINUTES_PER_DOCUMENT", default=4)
ALERT_STALLED_HOURS = env.int("ALERT_STALLED_HOURS", default=6)
ALERT_LATENCY_MS = env.int("ALERT_LATENCY_MS", default=5000)
ALERT_SLA_ESCALATE_HOURS = env.int("ALERT_SLA_ESCALATE_HOURS", default=24)
ALERT_CREDENTIAL_EXPIRY_DAYS = env.int("ALERT_CREDENTIAL_EXPIRY_DAYS", default=14)
ALERT_ERROR_RATE = env.float("ALERT_ERROR_RATE", default=0.2)
ALERT_ERROR_RATE_MIN_ATTEMPTS = env.int("ALERT_ERROR_RATE_MIN_ATTEMPTS", default=10)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "expensico_sync.core.api.authentication.OrganizationAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["expensico_sync.core.api.permissions.HasRole"],
    "DEFAULT_PAGINATION_CLASS": "expensico_sync.core.api.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "expensico_sync.core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "expensico_sync.core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "expensico_sync.core.api.throttles.PrincipalRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "principal": env.str("API_RATE", default="1200/min"),
        "webhooks": env.str("WEBHOOK_RATE", default="6000/min"),
        "batch": env.str("API_BATCH_RATE", default="60/min"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
API_KEY_CUSTOM_HEADER = "HTTP_AUTHORIZATION"

SPECTACULAR_SETTINGS = {
    "TITLE": "expensico-sync API",
    "DESCRIPTION": "Books approved Expensico spend into accounting systems exactly once.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {  # several models have a "status"/"kind"; name each enum once
        "ExportRecordStatusEnum": "exports.transitions.Status",
        "ExportRecordKindEnum": "exports.models.Kind",
        "SyncRunStatusEnum": "exports.models.SyncRun.Status",
        "ErrorTypeEnum": "expensico_sync.core.api.errors.ERROR_TYPES",
    },
}

SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", False) else None
X_FRAME_OPTIONS = "DENY"

from expensico_sync.logging import LOGGING  # noqa: E402, F401  (structlog config lives there)
from expensico_sync.unfold import UNFOLD  # noqa: E402, F401
