from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.admin import APIKeyModelAdmin
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display

from ..models import Membership, Organization, OrganizationAPIKey
from ..services import membership_save, organization_rotate_webhook_secret
from .confirm import confirmed_action
from .scoping import OrgScopedAdmin, OrgScopedAdminMixin

MODE_LABELS = {
    Organization.Mode.LIVE: "success",
    Organization.Mode.PILOT: "info",
    Organization.Mode.DRY_RUN: "warning",
    Organization.Mode.PAUSED: "danger",
}


class MembershipInline(TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)
    tab = True


class OrganizationForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        # Blank keeps the stored token by not assigning it at all: the model then clears it if the
        # base URL moved to another host (a token is only kept when supplied with the move).
        if not cleaned.get("expensico_api_token"):
            cleaned.pop("expensico_api_token", None)
        return cleaned


@admin.register(Organization)
class OrganizationAdmin(SimpleHistoryAdmin, OrgScopedAdmin):
    form = OrganizationForm
    org_path = None
    capability = "organization.manage"
    list_display = ("name", "slug", "mode_badge", "base_currency", "country", "member_count", "created_at")
    search_fields = ("name", "slug")
    list_filter = ("mode", "country", "base_currency")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at", "webhook_url")
    inlines = [MembershipInline]
    actions_detail = ["rotate_webhook_secret"]
    fieldsets = (
        (None, {"fields": ("name", "slug", "mode")}),
        (_("Locale"), {"fields": ("base_currency", "country", "timezone")}),
        (_("Expensico"), {"fields": ("webhook_url", "webhook_secret", "webhook_secret_previous",
                                  "expensico_api_base_url", "expensico_api_token")}),
        (_("Audit"), {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_members=Count("memberships"))

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    @display(description=_("Mode"), label=MODE_LABELS)
    def mode_badge(self, obj):
        return obj.mode

    @display(description=_("Members"), ordering="_members")
    def member_count(self, obj):
        return obj._members

    @display(description=_("Webhook URL"))
    def webhook_url(self, obj):
        return f"/api/v1/expensico/webhooks/{obj.slug}/" if obj.pk else "—"

    @confirmed_action(description=_("Rotate webhook secret"), icon="key",
                      what=_("A new webhook secret is generated and shown once. Expensico must be given it; the "
                           "current secret stays valid as the previous one until you clear it."))
    def rotate_webhook_secret(self, request, object_id):
        org = self.get_queryset(request).get(pk=object_id)
        secret = organization_rotate_webhook_secret(organization=org)
        messages.warning(
            request,
            _("New webhook secret for %(org)s: %(secret)s — copy it into Expensico now; it is not shown "
              "again. The previous secret stays valid until you clear it.") % {"org": org.name, "secret": secret},
        )
        from django.shortcuts import redirect

        return redirect("admin:core_organization_change", object_id)


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin, OrgScopedAdmin):
    capability = "members.manage"
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email", "organization__name")
    autocomplete_fields = ("user",)

    def save_model(self, request, obj, form, change):
        membership_save(membership=obj)


@admin.register(OrganizationAPIKey)
class OrganizationAPIKeyAdmin(OrgScopedAdminMixin, APIKeyModelAdmin, ModelAdmin):
    capability = "api_keys.manage"
    list_display = ("name", "prefix", "organization", "role", "created", "expiry_date", "_has_expired", "revoked")
    list_filter = ("role", "revoked", "created")
    search_fields = ("name", "prefix", "organization__name")
