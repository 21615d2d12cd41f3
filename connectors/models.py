from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from expensico_sync.core.fields import EncryptedTextField
from expensico_sync.core.models import Organization

from .hosts import credential_url_refusal
from .vendor_settings import settings_errors

SECRET_FIELDS = ("api_key", "client_secret", "access_token", "refresh_token")
GIVEN_CREDENTIALS = ("api_key", "client_secret")
# Settings holding a URL a credential is sent to (Wafeq's OAuth endpoints, Business Central's Entra
# authority): moving one of them is moving the credential, exactly like moving `base_url`.
URL_SETTINGS = ("oauth_authorize_url", "oauth_token_url", "oauth_revoke_url", "authority_host")
CLEARED_DETAIL = "Credentials cleared: where they are sent changed. Enter them again."


def _origin(url: str) -> tuple:
    try:
        parts = urlsplit(url or "")
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
        return parts.scheme.lower(), (parts.hostname or "").lower(), port
    except ValueError:
        return (url,)


class Connection(models.Model):
    """One organisation's link to one accounting system (real vendor or a sandbox)."""

    class Status(models.TextChoices):
        NEW = "new", _("Not connected yet")
        CONNECTED = "connected", _("Connected")
        EXPIRED = "expired", _("Credentials expired")
        ERROR = "error", _("Error")
        PAUSED = "paused", _("Paused")

    class AuthMethod(models.TextChoices):
        API_KEY = "api_key", _("API key")
        OAUTH2 = "oauth2", _("OAuth 2.0")
        CLIENT_CREDENTIALS = "client_credentials", _("Client credentials")
        BASIC = "basic", _("Username and password")
        TOKEN = "token", _("Token")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="connections", verbose_name=_("organisation"))
    system = models.CharField(max_length=32, help_text=_("The vendor's key in connectors/registry.py"), verbose_name=_("system"))
    name = models.CharField(max_length=120, verbose_name=_("name"))
    base_url = models.URLField(help_text=_("The vendor's API, or a sandbox's"), verbose_name=_("base URL"))
    auth_method = models.CharField(max_length=24, choices=AuthMethod.choices, default=AuthMethod.API_KEY, verbose_name=_("auth method"))

    # Secrets: encrypted, write-only, excluded from history.
    api_key = EncryptedTextField(blank=True, default="", verbose_name=_("API key"))
    client_id = models.CharField(max_length=200, blank=True, default="", verbose_name=_("client ID"))
    client_secret = EncryptedTextField(blank=True, default="", verbose_name=_("client secret"))
    access_token = EncryptedTextField(blank=True, default="", verbose_name=_("access token"))
    refresh_token = EncryptedTextField(blank=True, default="", verbose_name=_("refresh token"))
    token_expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("token expires at"))
    # The credential a person gave (API key or client secret): when it last changed, and when the
    # vendor says it stops working (e.g. an Entra client secret's end date), for alerts and reviews.
    credentials_changed_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("credentials changed at"))
    credentials_expire_on = models.DateField(
        null=True, blank=True, help_text=_("When the API key or client secret expires at the vendor (e.g. the Entra "
                                         "client secret's end date): owners are alerted before."), verbose_name=_("credentials expire on"))

    # Chosen accounts (seed 000 steps 4–6) and vendor-specific settings.
    employee_claims_account = models.CharField(max_length=200, blank=True, default="", verbose_name=_("employee claims account"))
    employee_claims_account_name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("employee claims account name"))
    employees_balance_account = models.CharField(max_length=200, blank=True, default="", verbose_name=_("employees balance account"))
    employees_balance_account_name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("employees balance account name"))
    funding_bank_account = models.CharField(max_length=200, blank=True, default="", verbose_name=_("funding bank account"))
    funding_bank_account_name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("funding bank account name"))
    settings = models.JSONField(default=dict, blank=True, help_text=_("Vendor-specific options"), verbose_name=_("settings"))

    # Health.
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW, verbose_name=_("status"))
    last_checked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last checked at"))
    last_check_ok = models.BooleanField(null=True, verbose_name=_("last check ok"))
    last_check_detail = models.TextField(blank=True, default="", verbose_name=_("last check detail"))

    # Circuit breaker (database-backed, shared by every worker).
    consecutive_failures = models.PositiveIntegerField(default=0, verbose_name=_("consecutive failures"))
    paused_until = models.DateTimeField(null=True, blank=True, verbose_name=_("paused until"))

    # Whether exports flow. A connection added through the admin's guided setup starts inactive and
    # is activated as its last step; until then the worker parks its records and no new ones are made.
    active = models.BooleanField(default=True, help_text=_("Exports flow only while the connection is active."), verbose_name=_("active"))
    export_from = models.DateField(
        null=True, blank=True, help_text=_("Documents dated before this day are not exported (a historical sync "
                                         "is an explicit, later step)."), verbose_name=_("export from"))
    activated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("activated at"))

    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    history = HistoricalRecords(
        excluded_fields=["api_key", "client_secret", "access_token", "refresh_token", "token_expires_at",
                         "consecutive_failures", "paused_until", "last_checked_at", "updated_at"]
    )

    class Meta:
        verbose_name = _("connection")
        verbose_name_plural = _("connections")
        ordering = ["organization__name", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="connection_name_unique")]

    def __str__(self):
        from .registry import system_label

        label = str(system_label(self.system))
        # "Wafeq (sandbox)" already names its system: "Wafeq (sandbox) (Wafeq)" says it twice.
        return self.name if label.casefold() in self.name.casefold() else f"{self.name} ({label})"

    # Credential safety ------------------------------------------------------------------
    # A stored secret must not follow its connection to a new host: whoever can edit the URL
    # could otherwise collect it. On save, a changed origin (scheme, host, port of `base_url` or
    # of a URL setting) clears every secret this save did not supply again. The origins and secrets
    # the row was loaded with are remembered, so this holds for the API, the admin and any service.

    def save(self, *args, **kwargs):
        if self.pk and not self._state.adding:
            cleared = self._credentials_forget_if_moved(kwargs.get("update_fields"))
            if cleared and kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], *cleared}
        if self._given_credential_changed():
            self.credentials_changed_at = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "credentials_changed_at"}
        super().save(*args, **kwargs)
        fields = kwargs.get("update_fields")
        self._remember(fields if fields is not None and "_loaded" in self.__dict__ else None)
        self.__dict__["_supplied"] = set()

    def _given_credential_changed(self) -> bool:
        """A new API key or client secret (tokens refreshed by OAuth are not a person's credential)."""
        loaded = (self.__dict__.get("_loaded") or {}).get("secrets", {})
        return any(getattr(self, name) and getattr(self, name) != loaded.get(name) for name in GIVEN_CREDENTIALS)

    def clean(self):
        super().clean()
        errors = {}
        if self.base_url and (reason := credential_url_refusal(system=self.system, url=self.base_url)):
            errors["base_url"] = reason
        settings = self.settings if isinstance(self.settings, dict) else {}
        if not isinstance(self.settings, dict):
            errors["settings"] = "Must be a JSON object of setting → value."
        elif typed := settings_errors(self.system, settings, unknown=False):
            errors["settings"] = "; ".join(f"{key}: {message}" for key, message in typed.items())
        for key in URL_SETTINGS:
            if settings.get(key) and (reason := credential_url_refusal(system=self.system, url=str(settings[key]))):
                errors["settings"] = f"{key}: {reason}"
        if errors:
            raise ValidationError(errors)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        if {"base_url", "settings", *SECRET_FIELDS} <= set(field_names):
            instance._remember()
        instance.__dict__["_supplied"] = set()
        return instance

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if fields is None or "_loaded" in self.__dict__:
            self._remember(fields)

    def credential_origins(self) -> dict[str, tuple]:
        settings = self.settings if isinstance(self.settings, dict) else {}
        return {"base_url": _origin(self.base_url),
                **{key: _origin(str(settings[key])) for key in URL_SETTINGS if settings.get(key)}}

    def supply_credentials(self, **secrets: str) -> None:
        """Sets secrets given in this request/form/call: they survive a move of the URL they go to."""
        for name, value in secrets.items():
            if name not in SECRET_FIELDS:
                raise ValueError(f"{name} is not a credential field")
            setattr(self, name, value)
            self.__dict__.setdefault("_supplied", set()).add(name)

    def _remember(self, fields=None) -> None:
        """Snapshot what the row holds now (after a load, save or refresh of `fields`)."""
        loaded = self.__dict__.get("_loaded") or {"origins": {}, "secrets": {}}
        now = self.credential_origins()
        if fields is None or "base_url" in fields:
            loaded["origins"]["base_url"] = now["base_url"]
        if fields is None or "settings" in fields:
            loaded["origins"] = {"base_url": loaded["origins"].get("base_url"),
                                 **{k: v for k, v in now.items() if k != "base_url"}}
        for name in SECRET_FIELDS:
            if fields is None or name in fields:
                loaded["secrets"][name] = getattr(self, name)
        self.__dict__["_loaded"] = loaded

    def _credentials_forget_if_moved(self, update_fields) -> list[str]:
        if update_fields is not None and not {"base_url", "settings"} & set(update_fields):
            return []
        loaded = self.__dict__.get("_loaded")
        if loaded is None:
            stored = type(self)._default_manager.filter(pk=self.pk).first()
            if stored is None:
                return []
            loaded = stored._loaded
        if self.credential_origins() == loaded["origins"]:
            return []
        supplied = self.__dict__.get("_supplied", set())
        cleared = []
        for name in SECRET_FIELDS:
            value = getattr(self, name)
            if name not in supplied and value and value == loaded["secrets"].get(name):
                setattr(self, name, "")
                cleared.append(name)
        if cleared:
            self.token_expires_at = None
            self.status, self.last_check_ok, self.last_check_detail = self.Status.NEW, None, CLEARED_DETAIL
            cleared += ["token_expires_at", "status", "last_check_ok", "last_check_detail"]
        return cleared

    @property
    def breaker_open(self) -> bool:
        return bool(self.paused_until and self.paused_until > timezone.now())

    @property
    def has_credentials(self) -> bool:
        # Client credentials (Business Central / Entra) fetch their token on demand.
        return bool(self.api_key or self.access_token
                    or (self.auth_method == self.AuthMethod.CLIENT_CREDENTIALS and self.client_id and self.client_secret))


# The call log stores the error taxonomy's class name (`error_class`, a code that queries and
# exports rely on); pages show these words for it, in the reader's language. A class not named here
# (a vendor's own subclass) shows its code.
ERROR_CLASS_LABELS = {
    "ConnectorError": _("connector error"),
    "Transient": _("temporary failure"),
    "RateLimited": _("rate limited by the vendor"),
    "ClientRateLimited": _("held by our own rate limit"),
    "CircuitOpen": _("circuit breaker open"),
    "OutcomeUnknown": _("outcome unknown"),
    "Permanent": _("refused (retrying cannot fix it)"),
    "PeriodClosed": _("period closed at the vendor"),
    "AuthExpired": _("credentials rejected"),
    "UnexpectedAnswer": _("unexpected answer"),
    "Refusal": _("whole request refused"),
}


def error_class_label(code: str) -> str:
    return str(ERROR_CLASS_LABELS.get(code, code))


class CallLog(models.Model):
    """One row per vendor request attempt. Bodies are redacted and truncated before they land
    here; rows older than the retention period are pruned by `call_log_prune`."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="calls", verbose_name=_("connection"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("created at"))
    method = models.CharField(max_length=8, verbose_name=_("method"))
    path = models.CharField(max_length=500, verbose_name=_("path"))
    status = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("status"))
    duration_ms = models.PositiveIntegerField(default=0, verbose_name=_("duration (ms)"))
    request_id = models.CharField(max_length=200, blank=True, default="", verbose_name=_("request ID"))
    idempotency_key = models.CharField(max_length=200, blank=True, default="", verbose_name=_("idempotency key"))
    error_class = models.CharField(max_length=40, blank=True, default="", verbose_name=_("error class"))
    error_detail = models.CharField(max_length=500, blank=True, default="", verbose_name=_("error detail"))
    attempt = models.PositiveSmallIntegerField(default=1, verbose_name=_("attempt"))
    request_body = models.TextField(blank=True, default="", verbose_name=_("request body"))
    response_body = models.TextField(blank=True, default="", verbose_name=_("response body"))

    ORG_PATH = "connection__organization"

    class Meta:
        verbose_name = _("call log")
        verbose_name_plural = _("call logs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["connection", "-created_at"])]

    def __str__(self):
        return f"{self.method} {self.path} → {self.status or self.error_class_label}"

    @property
    def error_class_label(self) -> str:
        return error_class_label(self.error_class)


class CallLogDocument(models.Model):
    """A document one call carried where a call carries many (push many: Xledger's multi-input
    mutation, Business Central's `$batch`): the call's own `idempotency_key` is then blank and
    each document's key is a row here, so every record still finds the calls that carried it."""

    call = models.ForeignKey(CallLog, on_delete=models.CASCADE, related_name="documents", verbose_name=_("call"))
    idempotency_key = models.CharField(max_length=200, db_index=True, verbose_name=_("idempotency key"))

    class Meta:
        verbose_name = _("call log document")
        verbose_name_plural = _("call log documents")

    def __str__(self):
        return f"{self.idempotency_key} in call {self.call_id}"


class RateLimitWindow(models.Model):
    """Fixed one-second windows counted in the database, so every worker process on every
    machine shares one budget per connection."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+", verbose_name=_("connection"))
    window = models.BigIntegerField(verbose_name=_("window"))
    count = models.PositiveIntegerField(default=0, verbose_name=_("count"))

    class Meta:
        verbose_name = _("rate limit window")
        verbose_name_plural = _("rate limit windows")
        constraints = [models.UniqueConstraint(fields=["connection", "window"], name="rate_window_unique")]

    def __str__(self):
        return f"{self.connection_id}@{self.window}: {self.count}"


class RateLimitSlot(models.Model):
    """One request sent under a sliding-window limit (a vendor's burst limit): taken before the
    request leaves, so requests still in flight count too. Rows older than the window are pruned
    by the next taker."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+", verbose_name=_("connection"))
    taken_at = models.DateTimeField(verbose_name=_("taken at"))

    class Meta:
        verbose_name = _("rate limit slot")
        verbose_name_plural = _("rate limit slots")
        indexes = [models.Index(fields=["connection", "taken_at"])]

    def __str__(self):
        return f"{self.connection_id}@{self.taken_at:%H:%M:%S.%f}"


class ConcurrencySlot(models.Model):
    """One of a vendor's "N requests at once" places (Business Central: 5 per user), shared by every
    worker process. Held under a lease so a killed worker's place frees itself when the lease ends."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+", verbose_name=_("connection"))
    slot = models.PositiveSmallIntegerField(verbose_name=_("slot"))
    holder = models.CharField(max_length=32, blank=True, default="", verbose_name=_("holder"))
    held_until = models.DateTimeField(null=True, blank=True, verbose_name=_("held until"))

    class Meta:
        verbose_name = _("concurrency slot")
        verbose_name_plural = _("concurrency slots")
        constraints = [models.UniqueConstraint(fields=["connection", "slot"], name="concurrency_slot_unique")]

    def __str__(self):
        return f"{self.connection_id}#{self.slot}: {self.holder or 'free'}"


class VendorMetadataCache(models.Model):
    """The vendor's live metadata pre-flight checks against (connectors/preflight.py), kept with
    its fetch time so a check costs no vendor call per document; and the lock date the vendor
    reported on its last closed-period refusal, for vendors whose API does not publish it."""

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="+", verbose_name=_("connection"))
    data = models.JSONField(null=True, blank=True, verbose_name=_("data"))
    fetched_at = models.DateTimeField(null=True, blank=True, verbose_name=_("fetched at"))
    learned_closed_through = models.DateField(null=True, blank=True, verbose_name=_("learned closed through"))

    class Meta:
        verbose_name = _("vendor metadata cache")
        verbose_name_plural = _("vendor metadata caches")

    def __str__(self):
        return f"{self.connection_id} metadata @ {self.fetched_at}"
