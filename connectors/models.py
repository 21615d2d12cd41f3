from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from expensico_sync.core.fields import EncryptedTextField
from expensico_sync.core.models import Organization


class Connection(models.Model):
    """One organisation's link to one accounting system (real vendor or a sandbox)."""

    class Status(models.TextChoices):
        NEW = "new", "Not connected yet"
        CONNECTED = "connected", "Connected"
        EXPIRED = "expired", "Credentials expired"
        ERROR = "error", "Error"
        PAUSED = "paused", "Paused"

    class AuthMethod(models.TextChoices):
        API_KEY = "api_key", "API key"
        OAUTH2 = "oauth2", "OAuth 2.0"
        CLIENT_CREDENTIALS = "client_credentials", "Client credentials"
        BASIC = "basic", "Username and password"
        TOKEN = "token", "Token"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="connections")
    system = models.CharField(max_length=32, help_text="Connector key: wafeq, business_central, xledger, …")
    name = models.CharField(max_length=120)
    base_url = models.URLField(help_text="The vendor's API, or a sandbox's")
    auth_method = models.CharField(max_length=24, choices=AuthMethod.choices, default=AuthMethod.API_KEY)

    # Secrets: encrypted, write-only, excluded from history.
    api_key = EncryptedTextField(blank=True, default="")
    client_id = models.CharField(max_length=200, blank=True, default="")
    client_secret = EncryptedTextField(blank=True, default="")
    access_token = EncryptedTextField(blank=True, default="")
    refresh_token = EncryptedTextField(blank=True, default="")
    token_expires_at = models.DateTimeField(null=True, blank=True)

    # Chosen accounts (seed 000 steps 4–6) and vendor-specific settings.
    employee_claims_account = models.CharField(max_length=200, blank=True, default="")
    employee_claims_account_name = models.CharField(max_length=200, blank=True, default="")
    employees_balance_account = models.CharField(max_length=200, blank=True, default="")
    employees_balance_account_name = models.CharField(max_length=200, blank=True, default="")
    funding_bank_account = models.CharField(max_length=200, blank=True, default="")
    funding_bank_account_name = models.CharField(max_length=200, blank=True, default="")
    settings = models.JSONField(default=dict, blank=True, help_text="Vendor-specific options")

    # Health.
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True)
    last_check_detail = models.TextField(blank=True, default="")

    # Circuit breaker (database-backed, shared by every worker).
    consecutive_failures = models.PositiveIntegerField(default=0)
    paused_until = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(
        excluded_fields=["api_key", "client_secret", "access_token", "refresh_token", "token_expires_at",
                         "consecutive_failures", "paused_until", "last_checked_at", "updated_at"]
    )

    class Meta:
        ordering = ["organization__name", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="connection_name_unique")]

    def __str__(self):
        return f"{self.name} ({self.system})"

    @property
    def breaker_open(self) -> bool:
        return bool(self.paused_until and self.paused_until > timezone.now())

    @property
    def has_credentials(self) -> bool:
        # Client credentials (Business Central / Entra) fetch their token on demand.
        return bool(self.api_key or self.access_token
                    or (self.auth_method == self.AuthMethod.CLIENT_CREDENTIALS and self.client_id and self.client_secret))


class CallLog(models.Model):
    """One row per vendor request attempt. Bodies are redacted and truncated before they land
    here; rows older than the retention period are pruned by `call_log_prune`."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="calls")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    request_id = models.CharField(max_length=200, blank=True, default="")
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    error_class = models.CharField(max_length=40, blank=True, default="")
    error_detail = models.CharField(max_length=500, blank=True, default="")
    attempt = models.PositiveSmallIntegerField(default=1)
    request_body = models.TextField(blank=True, default="")
    response_body = models.TextField(blank=True, default="")

    ORG_PATH = "connection__organization"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["connection", "-created_at"])]

    def __str__(self):
        return f"{self.method} {self.path} → {self.status or self.error_class}"


class RateLimitWindow(models.Model):
    """Fixed one-second windows counted in the database, so every worker process on every
    machine shares one budget per connection."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    window = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "window"], name="rate_window_unique")]

    def __str__(self):
        return f"{self.connection_id}@{self.window}: {self.count}"


class RateLimitSlot(models.Model):
    """One request sent under a sliding-window limit (a vendor's burst limit): taken before the
    request leaves, so requests still in flight count too. Rows older than the window are pruned
    by the next taker."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    taken_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["connection", "taken_at"])]

    def __str__(self):
        return f"{self.connection_id}@{self.taken_at:%H:%M:%S.%f}"


class ConcurrencySlot(models.Model):
    """One of a vendor's "N requests at once" places (Business Central: 5 per user), shared by every
    worker process. Held under a lease so a killed worker's place frees itself when the lease ends."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    slot = models.PositiveSmallIntegerField()
    holder = models.CharField(max_length=32, blank=True, default="")
    held_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "slot"], name="concurrency_slot_unique")]

    def __str__(self):
        return f"{self.connection_id}#{self.slot}: {self.holder or 'free'}"
