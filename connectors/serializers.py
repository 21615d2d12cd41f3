from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from expensico_sync.core.api.authentication import principal_of
from expensico_sync.core.selectors import organizations_with_capability

from .base import CatalogKind, registered_systems
from .hosts import credential_url_refusal
from .models import URL_SETTINGS, Connection
from .registry import vendors
from .setup_steps import export_from_problem
from .vendor_settings import serializer_class, settings_errors, settings_validate

SECRETS = ("api_key", "client_secret")


class SettingsField(serializers.JSONField):
    """The vendor's settings (`connectors/<vendor>/settings.py`): validated against the system's
    class in `ConnectionSerializer.validate`; a PATCH merges into the stored settings."""


class SettingsFieldSchema(OpenApiSerializerFieldExtension):
    """One schema per system. anyOf, not oneOf: every key is optional and the common ones are
    shared, so a value matches several systems' schemas at once."""

    target_class = SettingsField

    def map_serializer_field(self, auto_schema, direction):
        refs = [auto_schema.resolve_serializer(serializer_class(v.settings_type()), direction).ref for v in vendors()]
        return {"anyOf": refs, "description": "The settings of the connection's system (one schema per system: "
                                              + ", ".join(f"{v.key} → {v.settings_class}" for v in vendors())
                                              + "). A PATCH merges the keys it sends into the stored ones."}


class ConnectionSerializer(serializers.ModelSerializer):
    """Secrets are write-only: accepted on create/update, never returned."""

    system = serializers.ChoiceField(choices=[])
    api_key = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                    style={"input_type": "password"})
    client_secret = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                          style={"input_type": "password"})
    breaker_open = serializers.BooleanField(read_only=True)
    settings = SettingsField(required=False)

    class Meta:
        model = Connection
        fields = ("id", "organization", "system", "name", "base_url", "auth_method", "api_key", "client_id",
                  "client_secret", "token_expires_at", "employee_claims_account", "employee_claims_account_name",
                  "employees_balance_account", "employees_balance_account_name", "funding_bank_account",
                  "funding_bank_account_name", "status", "last_checked_at", "last_check_ok", "last_check_detail",
                  "consecutive_failures", "paused_until", "breaker_open", "settings", "active", "export_from",
                  "activated_at", "created_at", "updated_at")
        read_only_fields = ("token_expires_at", "employee_claims_account", "employee_claims_account_name",
                            "employees_balance_account", "employees_balance_account_name", "funding_bank_account",
                            "funding_bank_account_name", "status", "last_checked_at", "last_check_ok",
                            "last_check_detail", "consecutive_failures", "paused_until", "active", "export_from",
                            "activated_at", "created_at", "updated_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["system"].choices = [(s, s) for s in registered_systems()]

    def validate_organization(self, org):
        principal = principal_of(self.context["request"])
        if not organizations_with_capability(principal, "connections.manage").filter(pk=org.pk).exists():
            raise serializers.ValidationError("You may not manage connections of this organisation.")
        return org

    def validate(self, attrs):
        if "base_url" in attrs or "system" in attrs:
            system = attrs.get("system") or getattr(self.instance, "system", "")
            url = attrs.get("base_url") or getattr(self.instance, "base_url", "")
            if reason := credential_url_refusal(system=system, url=url):
                raise serializers.ValidationError({"base_url": reason})
        if "settings" in attrs:
            attrs["settings"] = self._settings(attrs)
        return attrs

    def _settings(self, attrs) -> dict:
        """The sent keys checked against the system's settings class and merged into the stored ones."""
        system = attrs.get("system") or getattr(self.instance, "system", "")
        incoming = attrs["settings"]
        if not isinstance(incoming, dict):
            raise serializers.ValidationError({"settings": "Must be a JSON object of setting → value."})
        errors = settings_errors(system, incoming)
        for key in URL_SETTINGS:
            if incoming.get(key) and (reason := credential_url_refusal(system=system, url=str(incoming[key]))):
                errors.setdefault(key, reason)
        if errors:
            raise serializers.ValidationError({"settings": errors})
        return settings_validate(system, incoming, stored=getattr(self.instance, "settings", None))

    def update(self, instance, validated_data):
        # Blank means keep; a secret given here survives a change of base_url (the model clears the rest).
        supplied = {name: validated_data.pop(name) for name in SECRETS if validated_data.get(name)}
        for name in SECRETS:
            validated_data.pop(name, None)
        instance.supply_credentials(**supplied)
        return super().update(instance, validated_data)


class CheckResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField()
    organization_name = serializers.CharField()


class CatalogItemSerializer(serializers.Serializer):
    kind = serializers.CharField()
    remote_id = serializers.CharField()
    name = serializers.CharField()
    code = serializers.CharField()
    classification = serializers.CharField()
    active = serializers.BooleanField()
    extra = serializers.DictField()


class CatalogQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[k.value for k in CatalogKind], default=CatalogKind.ACCOUNTS.value)
    classification = serializers.CharField(required=False, help_text="e.g. EXPENSE")
    refresh = serializers.BooleanField(required=False, default=False,
                                       help_text="Fetch from the vendor (owner or finance admin); otherwise the "
                                                 "stored copy is returned and no vendor is called")


class ConfigureSerializer(serializers.Serializer):
    """Remote ids to use; an omitted or blank purpose is found-or-created under its default name."""

    employee_claims_account = serializers.CharField(required=False, allow_blank=True)
    employees_balance_account = serializers.CharField(required=False, allow_blank=True)
    funding_bank_account = serializers.CharField(required=False, allow_blank=True)


class OAuthStartSerializer(serializers.Serializer):
    """The code must come back to this deployment: any other redirect_uri would hand it to a stranger."""

    redirect_uri = serializers.CharField(required=False, help_text="This deployment's OAuth callback (the default)")

    def validate_redirect_uri(self, value):
        if value != self.context["callback"]:
            raise serializers.ValidationError(f"Must be this deployment's OAuth callback, {self.context['callback']}.")
        return value


class OAuthStartResultSerializer(serializers.Serializer):
    authorize_url = serializers.URLField()


class ActivateSerializer(serializers.Serializer):
    export_from = serializers.DateField(help_text="Nothing dated before this day is exported (a historical sync "
                                                  "is a separate, explicit step)")

    def validate_export_from(self, value):
        problem = export_from_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class ActivationPreviewSerializer(serializers.Serializer):
    export_from = serializers.DateField()
    export = serializers.IntegerField(help_text="Documents activating would book")
    held = serializers.IntegerField(help_text="Of those, how many would wait for a person (mapping gaps, …)")
    detail = serializers.CharField(help_text="The counts per kind, in words")
