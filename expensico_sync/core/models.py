import base64
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey
from simple_history.models import HistoricalRecords

from .fields import EncryptedTextField
from .outbound import expensico_url_validate, origin
from .roles import Role


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class Organization(models.Model):
    class Mode(models.TextChoices):
        DRY_RUN = "dry_run", _("Dry run (build entries, send nothing)")
        PILOT = "pilot", _("Pilot (chosen employees/categories only)")
        LIVE = "live", _("Live")
        PAUSED = "paused", _("Paused")

    name = models.CharField(max_length=200, verbose_name=_("name"))
    slug = models.SlugField(max_length=64, unique=True, verbose_name=_("slug"))
    base_currency = models.CharField(max_length=3, default="SAR", help_text=_("ISO-4217 code"), verbose_name=_("base currency"))
    country = models.CharField(max_length=2, default="SA", help_text=_("ISO-3166 alpha-2 code"), verbose_name=_("country"))
    timezone = models.CharField(max_length=64, default="Asia/Riyadh", verbose_name=_("timezone"))
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.DRY_RUN, verbose_name=_("mode"))
    webhook_secret = EncryptedTextField(default=new_webhook_secret, help_text=_("Expensico signing secret (whsec_…)"), verbose_name=_("webhook secret"))
    webhook_secret_previous = EncryptedTextField(
        blank=True, default="", help_text=_("Still accepted during a secret rotation; clear it when done."), verbose_name=_("webhook secret previous")
    )
    expensico_api_base_url = models.URLField(blank=True, default="", verbose_name=_("Expensico API base URL"),
                                             validators=[expensico_url_validate])
    expensico_api_token = EncryptedTextField(blank=True, default="", verbose_name=_("Expensico API token"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    history = HistoricalRecords(
        excluded_fields=["webhook_secret", "webhook_secret_previous", "expensico_api_token"]
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self):
        return self.name

    # The pull API token goes wherever the base URL points. Whoever moves the URL to another scheme,
    # host or port must supply the token again in the same change, or it is cleared: otherwise a
    # stored token could be redirected to a host of the editor's choosing. Enforced here, so the
    # API, the admin and every service get it.
    def __setattr__(self, name, value):
        if name == "expensico_api_token":
            self.__dict__["_api_token_supplied"] = True
        super().__setattr__(name, value)

    def save(self, *args, **kwargs):
        kwargs["update_fields"] = self._api_token_guard(kwargs.get("update_fields"))
        super().save(*args, **kwargs)
        self._api_loaded()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._api_loaded()
        return instance

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if fields is None or {"expensico_api_base_url", "expensico_api_token"} & set(fields):
            self._api_loaded()

    def clean_fields(self, exclude=None):
        # full_clean() writes every cleaned value back: that is not the token being supplied.
        supplied = self.__dict__.get("_api_token_supplied")
        super().clean_fields(exclude=exclude)
        if supplied is not None:
            self.__dict__["_api_token_supplied"] = supplied

    def _api_loaded(self) -> None:
        self.__dict__["_api_token_supplied"] = False
        url = self.__dict__.get("expensico_api_base_url")
        self.__dict__["_api_origin"] = None if url is None else origin(url)

    def _api_token_guard(self, update_fields) -> list | None:
        if self._state.adding or self.__dict__.get("_api_token_supplied", True):
            return update_fields
        if "expensico_api_base_url" not in self.__dict__ or (
                update_fields is not None and "expensico_api_base_url" not in update_fields):
            return update_fields
        loaded = self.__dict__.get("_api_origin")
        if loaded is None:  # the URL was deferred when the row was loaded
            stored = type(self)._base_manager.filter(pk=self.pk).values_list("expensico_api_base_url", flat=True)
            loaded = origin(stored.first() or "")
        if origin(self.expensico_api_base_url) == loaded:
            return update_fields
        self.__dict__["expensico_api_token"] = ""
        return None if update_fields is None else [*update_fields, "expensico_api_token"]

    def webhook_secrets(self) -> list[str]:
        return [s for s in (self.webhook_secret, self.webhook_secret_previous) if s]


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user"))
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organisation"))
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER, verbose_name=_("role"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_unique")]
        ordering = ["organization__name", "user__username"]

    def __str__(self):
        return f"{self.user} · {self.organization} · {self.get_role_display()}"


class OrganizationAPIKey(AbstractAPIKey):
    """A machine client's key: bound to one organisation and one role, hashed at rest."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("organisation"))
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER, verbose_name=_("role"))
    # A login-less user standing for the key, so audit trails (simple-history) name the key.
    service_user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                        blank=True, editable=False, related_name="api_key", verbose_name=_("service user"))

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")  # type: ignore[assignment]
        verbose_name_plural = _("API keys")  # type: ignore[assignment]

    def save(self, *args, **kwargs):
        if self.service_user_id is None:
            from django.contrib.auth import get_user_model

            user = get_user_model()(username=f"api-key:{self.prefix}", is_active=True)
            user.set_unusable_password()
            user.save()
            self.service_user = user
        super().save(*args, **kwargs)


class EncryptionCanary(models.Model):
    """One row of known plaintext: start-up decrypts it to prove the key list is right."""

    PLAINTEXT = "expensico-sync canary"

    value = EncryptedTextField(verbose_name=_("value"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("encryption canary")
        verbose_name_plural = _("encryption canaries")

    def __str__(self):
        return f"encryption canary #{self.pk}"
