"""Connections in the admin: the setup flow (seed 000 steps 1–6), health, breaker and call log."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext
from import_export.admin import ExportMixin
from rest_framework.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateTimeFilter, RelatedDropdownFilter
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import action, display

from expensico_sync.core.admin.confirm import confirmed_action
from expensico_sync.core.admin.paging import values_filter
from expensico_sync.core.admin.scoping import OrgScopedAdmin
from expensico_sync.core.formatting import clipped

from .admin_filters import SystemFilter
from .admin_settings import PREFIX, settings_form_fields, settings_from_form
from .admin_setup import CREDENTIALS, GuidedSetupMixin
from .base import connector_class
from .errors import ConnectorError, Permanent
from .models import SECRET_FIELDS, CallLog, Connection, error_class_label
from .oauth import oauth_authorization_finish, oauth_authorization_start
from .registry import vendor
from .resources import CallLogResource
from .services import (
    connection_breaker_reset,
    connection_check,
)


def _error_classes() -> list[tuple[str, str]]:
    """The call log stores the taxonomy class's name: every subclass, found when the filter renders."""
    found, todo = [], [ConnectorError]
    while todo:
        cls = todo.pop()
        found.append(cls.__name__)
        todo.extend(cls.__subclasses__())
    return [("", pgettext("error class", "none")),
            *sorted(((name, error_class_label(name)) for name in set(found)), key=lambda c: c[1])]


STATUS_LABELS = {"connected": "success", "new": "info", "expired": "warning", "error": "danger", "paused": "warning"}

@admin.register(Connection)
class ConnectionAdmin(GuidedSetupMixin, SimpleHistoryAdmin, OrgScopedAdmin):
    capability = "connections.manage"
    # Fits 1440 px: the three chosen accounts share one column, long names are clipped.
    list_display = ("name_text", "organization", "system_label", "active_badge", "status_badge", "breaker_badge",
                    "last_checked_at", "accounts_text")
    list_filter = (("status", ChoicesDropdownFilter), SystemFilter)
    search_fields = ("name", "organization__name")
    readonly_fields = ("status", "last_checked_at", "last_check_ok", "last_check_detail", "consecutive_failures",
                       "paused_until", "token_expires_at", "credentials_changed_at", "employee_claims_account", "employee_claims_account_name",
                       "employees_balance_account", "employees_balance_account_name", "funding_bank_account",
                       "funding_bank_account_name", "created_at", "updated_at", "active", "export_from", "activated_at",
                       "system_label")
    # One button and a menu: four side by side crushed the breadcrumbs.
    actions_detail = ["open_setup", {"title": _("More"), "icon": "more_horiz",
                                     "items": ["connect_oauth", "test_connection", "reset_breaker"]}]
    fieldsets = (
        (None, {"fields": ("organization", "system", "name", "base_url", "auth_method")}),
        (_("Credentials (write-only)"), {"fields": ("api_key", "client_id", "client_secret", "credentials_expire_on",
                                                 "credentials_changed_at", "token_expires_at")}),
        (_("Chosen accounts"), {"fields": ("employee_claims_account_name", "employee_claims_account",
                                        "employees_balance_account_name", "employees_balance_account",
                                        "funding_bank_account_name", "funding_bank_account", "settings")}),
        (_("Health"), {"fields": ("active", "export_from", "activated_at", "status", "last_checked_at", "last_check_ok",
                               "last_check_detail")}),
        (_("Circuit breaker"), {"fields": ("consecutive_failures", "paused_until")}),
        (_("Audit"), {"fields": ("created_at", "updated_at")}),
    )

    def _system(self, request, obj) -> str:
        """The vendor whose settings the form shows: the connection's, or on the add form the one
        chosen (`?system=` or the posted choice)."""
        return obj.system if obj else request.POST.get("system") or request.GET.get("system") or ""

    def _settings_fields(self, request, obj) -> dict:
        try:
            settings_class = vendor(self._system(request, obj)).settings_type()
        except LookupError:
            return {}
        try:
            current = settings_class.of(obj) if obj else settings_class()
        except Permanent:   # a stored value of the wrong type: the form shows defaults, the box the value
            current = settings_class()
        fields = settings_form_fields(settings_class, current)
        if obj is not None and obj.auth_method != Connection.AuthMethod.OAUTH2:
            # As on the setup form: the OAuth endpoints and scope mean nothing to an API key or Entra app.
            fields = {name: f for name, f in fields.items() if not name.startswith(PREFIX + "oauth_")}
        return fields

    def get_fieldsets(self, request, obj=None):
        general, credentials, accounts, *rest = self.fieldsets
        if obj is not None:
            # The system's name, not its registry key; only the credentials its auth method uses.
            general = (None, {"fields": tuple("system_label" if f == "system" else f for f in general[1]["fields"])})
            used = {name for name, _label, _help in CREDENTIALS.get(obj.auth_method, ())}
            if used:
                credentials = (credentials[0], {"fields": tuple(
                    f for f in credentials[1]["fields"] if f not in SECRET_FIELDS + ("client_id",) or f in used)})
        # The raw JSON is for operators: folded away under the typed fields.
        accounts = (accounts[0], {"fields": tuple(f for f in accounts[1]["fields"] if f != "settings")})
        raw = (_("All settings (JSON)"), {"fields": ("settings",), "classes": ["collapse"]})
        names = list(self._settings_fields(request, obj))
        if not names:
            return (general, credentials, accounts, raw, *rest)
        typed = (_("%(system)s settings") % {"system": vendor(self._system(request, obj)).label},
                 {"fields": names, "description": _("Leave a field as it is to keep its default; “All settings "
                                                    "(JSON)” below holds everything, learned keys too.")})
        return (general, credentials, accounts, typed, raw, *rest)

    def get_form(self, request, obj=None, change=False, **kwargs):
        extra = self._settings_fields(request, obj)
        if extra:
            system = self._system(request, obj)

            def clean(form):
                cleaned = super(form_class, form).clean()
                try:
                    cleaned["settings"] = settings_from_form(system=system, form=form,
                                                             stored=cleaned.get("settings") or {})
                except ValidationError as exc:
                    for key, messages in exc.detail.items():
                        form.add_error(PREFIX + key if PREFIX + key in form.fields else "settings", messages)
                return cleaned

            form_class = type("ConnectionSettingsForm", (self.form,), {**extra, "clean": clean})
            kwargs["form"] = form_class
        form = super().get_form(request, obj, change=change, **kwargs)
        for name, label, _help in CREDENTIALS.get(obj.auth_method, ()) if obj else ():
            if name in form.base_fields:   # the words of the setup flow: "OAuth client secret", "API token"
                form.base_fields[name].label = label
        return form

    def save_model(self, request, obj, form, change):
        # A secret typed into this form survives a change of base_url; the model clears the others.
        obj.supply_credentials(**{n: form.cleaned_data[n] for n in SECRET_FIELDS if form.cleaned_data.get(n)})
        super().save_model(request, obj, form, change)

    def get_fields(self, request, obj=None):
        return [f for f in super().get_fields(request, obj) if f not in ("access_token", "refresh_token")]

    def get_exclude(self, request, obj=None):
        return ["access_token", "refresh_token"]

    @display(description=_("name"), ordering="name")
    def name_text(self, obj):
        return clipped(obj.name, width="16rem")

    @display(description=_("Chosen accounts"))
    def accounts_text(self, obj):
        names = (obj.employee_claims_account_name, obj.employees_balance_account_name, obj.funding_bank_account_name)
        return format_html_join("", "<div>{}</div>", ((clipped(name, width="14rem"),) for name in names))

    @display(description=_("System"), ordering="system")
    def system_label(self, obj):
        try:
            return connector_class(obj.system).label or obj.system
        except LookupError:
            return obj.system

    @display(description=_("Exports"), label={"active": "success", "inactive": "warning"}, ordering="active")
    def active_badge(self, obj):
        return ("active", _("active")) if obj.active else ("inactive", _("not activated"))

    @display(description=_("Status"), label=STATUS_LABELS)
    def status_badge(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("Breaker"), label={"open": "danger", "closed": "success"})
    def breaker_badge(self, obj):
        return ("open", _("open")) if obj.breaker_open else ("closed", _("closed"))

    def get_urls(self):
        return [
            path("oauth/callback/", self.admin_site.admin_view(self.oauth_callback_view),
                 name="connectors_connection_oauth_callback"),
            *super().get_urls(),
        ]

    def _get_writable(self, request, object_id) -> Connection:
        conn = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, conn):
            raise PermissionDenied(_("connections.manage is needed"))
        return conn

    # Detail actions -----------------------------------------------------------------------
    def has_connect_oauth_permission(self, request, object_id=None):
        """“Connect with OAuth” only for a connection that signs in with OAuth."""
        conn = self.get_queryset(request).filter(pk=object_id).only("auth_method").first() if object_id else None
        return conn is not None and conn.auth_method == Connection.AuthMethod.OAUTH2

    @action(description=_("Set up accounts"), icon="checklist", permissions=["change"])
    def open_setup(self, request, object_id):
        return redirect("admin:connectors_connection_setup", object_id)

    @action(description=_("Connect with OAuth"), icon="link", permissions=["change", "connect_oauth"])
    def connect_oauth(self, request, object_id):
        conn = self._get_writable(request, object_id)
        if not (conn.client_id and conn.client_secret):
            messages.error(request, _("Set the OAuth client id and secret first (or paste an API key)."))
            return redirect("admin:connectors_connection_change", object_id)
        callback = request.build_absolute_uri(reverse("admin:connectors_connection_oauth_callback"))
        return HttpResponseRedirect(oauth_authorization_start(connection=conn, redirect_uri=callback))

    @confirmed_action(description=_("Test connection"), icon="network_check",
                      what=_("The accounting system is called with the stored credentials; the connection's health "
                           "is updated with the answer."))
    def test_connection(self, request, object_id):
        result = connection_check(connection=self._get_writable(request, object_id))
        (messages.success if result.ok else messages.error)(request, f"Check: {result.organization_name} {result.detail}")
        return redirect("admin:connectors_connection_change", object_id)

    @confirmed_action(description=_("Reset circuit breaker"), icon="restart_alt",
                      what=_("The circuit breaker is closed and the failure count reset to 0: exports to this "
                           "system resume at once."))
    def reset_breaker(self, request, object_id):
        connection_breaker_reset(connection=self._get_writable(request, object_id))
        messages.success(request, _("Circuit breaker closed; failures reset to 0."))
        return redirect("admin:connectors_connection_change", object_id)

    # Views --------------------------------------------------------------------------------
    def oauth_callback_view(self, request):
        try:
            conn = oauth_authorization_finish(state=request.GET.get("state", ""), code=request.GET.get("code", ""),
                                              error=request.GET.get("error", ""))
        except ConnectorError as exc:
            messages.error(request, _("Connecting failed: %(error)s") % {"error": exc.message})
            return redirect("admin:connectors_connection_changelist")
        if not self.has_change_permission(request, conn):
            messages.error(request, _("You may not manage this connection."))
            return redirect("admin:connectors_connection_changelist")
        result = connection_check(connection=conn)
        (messages.success if result.ok else messages.error)(request, f"Connected: {result.organization_name} {result.detail}")
        return redirect("admin:connectors_connection_setup", conn.pk)


@admin.register(CallLog)
class CallLogAdmin(ExportMixin, OrgScopedAdmin):
    org_path = "connection__organization"
    resource_classes = [CallLogResource]
    export_form_class = ExportForm
    capability = "connections.manage"
    # Fits 1440 px: paths and keys are clipped (the whole value in the tooltip, and on the call's page).
    list_display = ("created_at", "connection_text", "method", "path_text", "status_badge", "duration_ms",
                    "error_class_text", "key_text", "request_text")
    # Fixed choices: the default filters listed DISTINCT values of two million rows per request.
    list_filter = (("connection", RelatedDropdownFilter),
                   values_filter("method", choices=["GET", "POST", "PUT", "PATCH", "DELETE"]),
                   values_filter("error_class", _("error class"), choices=_error_classes),
                   ("created_at", RangeDateTimeFilter))
    list_filter_submit = True
    search_fields = ("=idempotency_key", "=request_id", "^path")
    sortable_by = ("created_at",)
    list_select_related = ("connection",)
    # The error class shown in words where the stored code would be.
    fields = readonly_fields = [f.name if f.name != "error_class" else "error_class_text"
                                for f in CallLog._meta.fields]

    @display(description=_("Status"), label=True)
    def status_badge(self, obj):
        return obj.status or obj.error_class_label

    @display(description=_("error class"))
    def error_class_text(self, obj):
        if not obj.error_class:
            return "—"
        return obj.error_class_label

    @display(description=_("connection"))
    def connection_text(self, obj):
        return clipped(obj.connection.name, width="8rem")

    @display(description=_("path"))
    def path_text(self, obj):
        return clipped(obj.path, width="12rem")

    @display(description=_("idempotency key"))
    def key_text(self, obj):
        return clipped(obj.idempotency_key, width="6rem")

    @display(description=_("request ID"))
    def request_text(self, obj):
        return clipped(obj.request_id, width="6rem")

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False
