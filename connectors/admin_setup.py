"""The guided connection setup: pick the system from cards → only its credential fields and typed
settings → connect/test → the three accounts → the steps other apps register (map categories) →
a start date → activate. A connection made here starts inactive: nothing is exported until the
last step, and activating says first how many documents would go and how many would be held."""

import re
from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError as DRFValidationError
from unfold import widgets

from expensico_sync.core.selectors import organizations_with_capability

from .admin_settings import PREFIX, SHOWN, setting_label, settings_form_fields
from .base import AccountPurpose
from .errors import ConnectorError
from .hosts import credential_url_refusal
from .models import Connection
from .registry import vendor, vendors
from .selectors import connection_expense_accounts
from .services import connection_activate, connection_check, connection_create, connections_same_company
from .setup_jobs import ACCOUNTS, FETCH, FIELD_FOR, PURPOSES, setup_job_start, setup_job_state
from .setup_steps import activation_preview, export_from_problem, setup_steps
from .vendor_settings import settings_validate

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise
else:
    StrOrPromise = str

AuthMethod = Connection.AuthMethod
# The credential fields each auth style asks for: (model field, label, help text).
CREDENTIALS: dict[str, list[tuple[str, StrOrPromise, StrOrPromise]]] = {
    AuthMethod.OAUTH2: [("client_id", _("OAuth client id"), _("From the app you registered at the vendor.")),
                        ("client_secret", _("OAuth client secret"), _("Stored encrypted; never shown again."))],
    AuthMethod.CLIENT_CREDENTIALS: [
        ("client_id", _("Application (client) id"), _("The Entra app registration's application id.")),
        ("client_secret", _("Client secret"), _("The app registration's secret value; stored encrypted."))],
    AuthMethod.API_KEY: [("api_key", _("API key"), _("Stored encrypted; never shown again."))],
    AuthMethod.TOKEN: [("api_key", _("API token"), _("Stored encrypted; never shown again."))],
    AuthMethod.BASIC: [("client_id", _("Username"), _("The integration system user.")),
                       ("api_key", _("Password"), _("Stored encrypted; never shown again."))],
}
AUTH_WORDS: dict[str, StrOrPromise] = {
    AuthMethod.OAUTH2: _("Sign in with OAuth"), AuthMethod.CLIENT_CREDENTIALS: _("Entra client credentials"),
    AuthMethod.API_KEY: _("API key"), AuthMethod.TOKEN: _("API token"), AuthMethod.BASIC: _("Username and password")}
def initials(label: str) -> str:
    """Two letters for a system's card: its capitalised words' ("Workday (SOAP)" → "WS", not "W(")."""
    words = [w for w in re.findall(r"\w+", label) if w[0].isupper()] or label.split()[:1]
    return "".join(w[0] for w in words[:2]).upper()


def system_cards() -> list[dict]:
    return [{"key": v.key, "label": v.label, "books": v.books, "initials": initials(v.label),
             "auth": [{"key": a, "label": AUTH_WORDS.get(a, a)} for a in v.auth]} for v in vendors()]


def _learned(field: forms.Field) -> bool:
    """Settings the check or the account setup writes (their help text says so): not asked for."""
    text = str(field.help_text).lower()
    if "to use" in text:   # a choice the check fills when left blank (Business Central's company)
        return False
    return "learned" in text or "set by configure" in text or "last fetched" in text or "last configured" in text


class NewConnectionForm(forms.Form):
    organization: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, label=_("Organisation"),
                                                                  widget=widgets.UnfoldAdminSelectWidget)
    name = forms.CharField(label=_("Name"), max_length=120, widget=widgets.UnfoldAdminTextInputWidget,
                           help_text=_("How this connection is named in lists, e.g. “Wafeq – Riyadh books”."))
    base_url = forms.URLField(label=_("API address"), widget=widgets.UnfoldAdminURLInputWidget, assume_scheme="https")

    def __init__(self, *args, system: str, auth: str, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.system, self.auth = system, auth
        entry = vendor(system)
        orgs = organizations_with_capability(user, "connections.manage").order_by("name")
        self.fields["organization"].queryset = orgs  # type: ignore[attr-defined]
        if orgs.count() == 1:
            self.fields["organization"].initial = orgs.first()
        self.fields["base_url"].help_text = (
            _("The %(system)s API (or a sandbox's), e.g. %(example)s.") % {"system": entry.label,
                                                                           "example": entry.base_url_example}
            if entry.base_url_example else _("The %(system)s API, or a sandbox's.") % {"system": entry.label})
        for name, label, help_text in CREDENTIALS[auth]:
            secret = name != "client_id"
            self.fields[name] = forms.CharField(
                label=label, help_text=help_text, required=True,
                widget=widgets.UnfoldAdminPasswordWidget(render_value=False) if secret
                else widgets.UnfoldAdminTextInputWidget)
        settings_class = entry.settings_type()
        own = settings_class.__dict__.get("__annotations__", {})
        self.advanced = set()
        for name, field in settings_form_fields(settings_class, settings_class()).items():
            key = name[len(PREFIX):]
            if _learned(field) or (key.startswith("oauth_") and auth != AuthMethod.OAUTH2):
                continue   # filled in by the test or the account setup, or not used by this auth style
            field.label = setting_label(key)
            self.fields[name] = field
            if key not in own and name != PREFIX + "_shown":
                self.advanced.add(name)

    def clean_base_url(self):
        url = self.cleaned_data["base_url"]
        if reason := credential_url_refusal(system=self.system, url=url):
            raise ValidationError(reason)
        return url

    def clean(self):
        data = super().clean()
        org, name = data.get("organization"), data.get("name")
        if org and name and Connection.objects.filter(organization=org, name=name).exists():
            self.add_error("name", _("The organisation already has a connection of that name."))
        # Only what the person changed; a field left empty keeps the vendor's default.
        changed = {name[len(PREFIX):]: data[name] for name in self.changed_data
                   if name.startswith(PREFIX) and name != SHOWN and data.get(name) not in (None, "")}
        try:
            data["settings"] = settings_validate(self.system, changed) if changed else {}
        except DRFValidationError as exc:
            for key, errors in exc.detail.items():
                self.add_error(PREFIX + key if PREFIX + key in self.fields else None, errors)
        return data

    def setting_fields(self):
        return [self[name] for name in self.fields if name.startswith(PREFIX) and not name.endswith("_shown")
                and name not in self.advanced]

    def advanced_fields(self):
        return [self[name] for name in self.fields if name in self.advanced]

    def main_fields(self):
        return [self[name] for name in self.fields if not name.startswith(PREFIX)]


class GuidedSetupMixin:
    """Mixed into ConnectionAdmin: the add page is the guided flow, the setup page its steps."""

    def get_urls(self):
        return [
            path("<int:object_id>/setup/", self.admin_site.admin_view(self.setup_view),
                 name="connectors_connection_setup"),
            *super().get_urls(),
        ]

    def get_readonly_fields(self, request, obj=None):
        # The system is chosen once, on its card: a connection never turns into another vendor's.
        return (*super().get_readonly_fields(request, obj), *(("system",) if obj else ()))

    def _base_context(self, request, title):
        return {**self.admin_site.each_context(request), "title": title, "opts": self.model._meta,
                "has_view_permission": True}

    # Step 0 and 1: the system, then its fields --------------------------------------------
    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        system, auth = request.GET.get("system", ""), request.GET.get("auth", "")
        try:
            entry = vendor(system)
        except LookupError:
            context = {**self._base_context(request, _("Add a connection: choose the accounting system")),
                       "cards": system_cards()}
            return TemplateResponse(request, "connectors/admin/setup_systems.html", context)
        if auth not in entry.auth:
            auth = entry.auth[0]
        form = NewConnectionForm(request.POST or None, system=system, auth=auth, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                conn = connection_create(
                    organization=data["organization"], system=system, name=data["name"], base_url=data["base_url"],
                    auth_method=auth, settings=data["settings"], active=False,
                    **{n: data[n] for n, *_ in CREDENTIALS[auth]})
            except (ValueError, ConnectorError) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("%(name)s saved, not active yet: connect and test it next.") % {"name": conn.name})
                return redirect("admin:connectors_connection_setup", conn.pk)
        context = {**self._base_context(request, _("Add a %(system)s connection") % {"system": entry.label}), "form": form, "vendor": entry,
                   "auth_label": AUTH_WORDS.get(auth, auth), "back_url": reverse("admin:connectors_connection_add")}
        return TemplateResponse(request, "connectors/admin/setup_new.html", context)

    # Steps 2–7 ----------------------------------------------------------------------------
    def setup_view(self, request, object_id):
        conn = self._get_writable(request, object_id)
        context = self._base_context(request, _("Set up %(name)s") % {"name": conn.name})
        if request.method == "POST":
            step = request.POST.get("step", "")
            handler = {"test": self._post_test, "fetch": self._post_fetch, "accounts": self._post_accounts,
                       "activate": self._post_activate}.get(step)
            if handler is None:
                messages.error(request, _("Unknown step."))
                return redirect("admin:connectors_connection_setup", conn.pk)
            response = handler(request, conn, context)
            if response is not None:
                return response
        export_from = parse_date(request.GET.get("export_from", "") or "") or timezone.localdate()
        context.update({
            "connection": conn, "vendor": vendor(conn.system),
            "auth_label": AUTH_WORDS.get(conn.auth_method, conn.auth_method),
            "is_oauth": conn.auth_method == AuthMethod.OAUTH2,
            "change_url": reverse("admin:connectors_connection_change", args=[conn.pk]),
            "oauth_url": reverse("admin:connectors_connection_connect_oauth", args=[conn.pk]),
            "duplicates": connections_same_company(connection=conn),
            "expense_accounts": connection_expense_accounts(connection=conn),
            "accounts_done": bool(conn.employee_claims_account and conn.employees_balance_account
                                  and conn.funding_bank_account),
            "steps": setup_steps(conn),
            "export_from": export_from,
        })
        if not conn.active:
            context["preview"] = activation_preview(conn, export_from)
        job = setup_job_state(connection_id=conn.pk)
        context["job"] = job
        if job and job["state"] == "done" and job["kind"] == FETCH:
            context["choices"] = [{**c, "current": getattr(conn, FIELD_FOR[AccountPurpose(c["key"])]),
                                   "current_name": getattr(conn, FIELD_FOR[AccountPurpose(c["key"])] + "_name")}
                                  for c in job["choices"]]
        return TemplateResponse(request, "connectors/admin/setup.html", context)

    def _post_test(self, request, conn, context):
        result = connection_check(connection=conn)
        (messages.success if result.ok else messages.error)(request, f"Test: {result.organization_name} {result.detail}")
        return redirect("admin:connectors_connection_setup", conn.pk)

    def _post_fetch(self, request, conn, context):
        # Reading the catalog calls the vendor (call log, breaker, cached accounts): a POST, and a task.
        setup_job_start(connection=conn, kind=FETCH)
        return redirect("admin:connectors_connection_setup", conn.pk)

    def _post_accounts(self, request, conn, context):
        setup_job_start(connection=conn, kind=ACCOUNTS,
                        choices={str(p): request.POST.get(str(p), "") for p, *_ in PURPOSES})
        return redirect("admin:connectors_connection_setup", conn.pk)

    def _post_activate(self, request, conn, context):
        export_from = parse_date(request.POST.get("export_from", "") or "")
        if export_from is None:
            messages.error(request, _("Start date: give a date (YYYY-MM-DD)."))
            return redirect("admin:connectors_connection_setup", conn.pk)
        if problem := export_from_problem(export_from):
            messages.error(request, _("Start date: %(problem)s.") % {"problem": problem})
            return redirect("admin:connectors_connection_setup", conn.pk)
        try:
            connection_activate(connection=conn, export_from=export_from)
        except ValueError as exc:
            messages.error(request, _("Not activated: %(error)s") % {"error": exc})
        else:
            messages.success(request, _("%(name)s is active: documents dated from %(date)s are exported.")
                             % {"name": conn.name, "date": f"{export_from:%Y-%m-%d}"})
        return redirect("admin:connectors_connection_setup", conn.pk)
