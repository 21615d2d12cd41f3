"""The admin's "Close" section: the month list (status per organisation and month), the month's
checklist page with drill-downs, sign-off (finance admin), reopen (owner, with a reason), the
evidence pack per connection; and the two policies (closed periods, duplicates)."""

from datetime import date, timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin
from unfold.decorators import display

from connectors.models import Connection
from connectors.registry import system_label
from expensico_sync.core.admin.scoping import OrgScopedAdmin, access_of
from expensico_sync.core.models import Organization

from ..models import ConnectionClosePolicy, DuplicateSettings, MonthClose
from ..refusals import refusal_shown
from ..snapshots.services import snapshot_request
from ..stored_words import words_shown
from .models import EvidencePack
from .packs import evidence_response, pack_latest, pack_request, pack_servable, packs_latest
from .periods import month_start, next_month
from .registry import checklist_row_words
from .services import CloseError, checklist_live, month_close_reopen, month_close_sign_off, period_parse

MONTHS_SHOWN = 12
# The month's history says why it changed: "signed off", "reopened: <the owner's reason>" (close/services.py).
CHANGE_REASONS = ("close_signed_off", "close_reopened")


def _history(close) -> list:
    """The month's last twenty changes, each with its reason in the reader's language."""
    rows = list(close.history.order_by("-history_id")[:20]) if close else []
    for row in rows:
        row.reason_shown = words_shown(row.history_change_reason or "", CHANGE_REASONS)
    return rows


def recent_months(today: date, count: int = MONTHS_SHOWN) -> list[date]:
    months, day = [], month_start(today)
    for _month in range(count):
        months.append(day)
        day = (day - timedelta(days=1)).replace(day=1)
    return months


@admin.register(MonthClose)
class MonthCloseAdmin(SimpleHistoryAdmin, OrgScopedAdmin):
    org_path = "organization"
    capability = "close.sign_off"
    list_display = ("period", "organization", "status", "signed_off_by_label", "signed_off_at", "reopened_at",
                    "checklist_link")
    list_filter = ("status",)
    readonly_fields = [f.name for f in MonthClose._meta.fields]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @display(description=_("Checklist"))
    def checklist_link(self, obj):
        url = reverse("admin:exports_monthclose_month", args=[obj.organization_id, f"{obj.period:%Y-%m}"])
        return format_html('<a href="{}" class="text-primary-600">{}</a>', url, _("Checklist →"))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        mine = [
            path("months/", wrap(self.months_view), name="exports_monthclose_months"),
            path("month/<int:org_id>/<str:period>/", wrap(self.month_view), name="exports_monthclose_month"),
            path("month/<int:org_id>/<str:period>/sign-off/", wrap(require_POST(self.sign_off_view)),
                 name="exports_monthclose_sign_off"),
            path("month/<int:org_id>/<str:period>/reopen/", wrap(require_POST(self.reopen_view)),
                 name="exports_monthclose_reopen"),
            path("month/<int:org_id>/<str:period>/refresh/", wrap(require_POST(self.refresh_view)),
                 name="exports_monthclose_refresh"),
            path("month/<int:org_id>/<str:period>/evidence/<int:connection_id>/", wrap(self.evidence_view),
                 name="exports_monthclose_evidence"),
            path("month/<int:org_id>/<str:period>/evidence/<int:connection_id>/build/",
                 wrap(require_POST(self.evidence_build_view)), name="exports_monthclose_evidence_build"),
        ]
        return mine + super().get_urls()

    def _organizations(self, request):
        qs = Organization.objects.order_by("name")
        return qs if request.user.is_superuser else qs.filter(pk__in=access_of(request).org_ids)

    def _month(self, request, org_id, period):
        org = self._organizations(request).filter(pk=org_id).first()
        if org is None:
            raise Http404
        try:
            return org, period_parse(period)
        except CloseError as exc:
            raise Http404 from exc

    def _allowed(self, request, org, capability) -> bool:
        return request.user.is_superuser or org.pk in access_of(request).org_ids_with(capability)

    def months_view(self, request):
        """The month list: the last twelve months per organisation, with their status."""
        closes = {(c.organization_id, c.period): c for c in MonthClose.objects.filter(
            organization__in=self._organizations(request))}
        rows = [{"organization": org, "period": month, "close": closes.get((org.pk, month)),
                 "url": reverse("admin:exports_monthclose_month", args=[org.pk, f"{month:%Y-%m}"])}
                for org in self._organizations(request) for month in recent_months(timezone.localdate())]
        context = {**self.admin_site.each_context(request), "title": _("Close: months"), "opts": self.model._meta,
                   "rows": rows}
        return TemplateResponse(request, "exports/admin/close_months.html", context)

    def month_view(self, request, org_id, period):
        org, first = self._month(request, org_id, period)
        close = MonthClose.objects.filter(organization=org, period=first).first()
        signed = close is not None and close.locked
        live = None if signed else checklist_live(organization=org, period=first)
        connections = list(Connection.objects.filter(organization=org).order_by("name"))
        packs = packs_latest(connections=connections, period=first)
        context = {
            **self.admin_site.each_context(request), "title": _("Close %(month)s · %(organization)s") % {
                "month": date_format(first, "F Y"), "organization": org}, "opts": self.model._meta,
            "organization": org, "period": first, "period_key": f"{first:%Y-%m}", "close": close, "signed": signed,
            "items": [checklist_row_words(row) for row in (close.checklist if signed else (live.payload or []))],
            "as_of": close.signed_off_at if signed else live.computed_at, "computing": not signed and live.payload is None,
            "can_sign": not signed and self._allowed(request, org, "close.sign_off"),
            "can_reopen": signed and self._allowed(request, org, "close.reopen"),
            # The system by its name, not its registry key, beside each pack.
            "connections": [(c, packs.get(c.pk), system_label(c.system)) for c in connections],
            "can_build": self._allowed(request, org, "close.sign_off"),
            "building": any(p.status in EvidencePack.ACTIVE for p in packs.values()),
            "history": _history(close),
            "next_period": f"{next_month(first):%Y-%m}",
        }
        context["all_ok"] = bool(context["items"]) and all(item["ok"] for item in context["items"])
        return TemplateResponse(request, "exports/admin/close_month.html", context)

    def _back(self, org, first):
        return redirect(reverse("admin:exports_monthclose_month", args=[org.pk, f"{first:%Y-%m}"]))

    def sign_off_view(self, request, org_id, period):
        org, first = self._month(request, org_id, period)
        if not self._allowed(request, org, "close.sign_off"):
            raise PermissionDenied
        try:
            month_close_sign_off(organization=org, period=first, by=request.user,
                                 comment=request.POST.get("comment", ""))
            messages.success(request, _("%(month)s is signed off and locked.") % {"month": date_format(first, "F Y")})
        except CloseError as exc:
            messages.error(request, _("the checklist is not complete: %(items)s") % {
                "items": "; ".join(gettext(label) for label in exc.failing)} if exc.failing else refusal_shown(exc))
        return self._back(org, first)

    def reopen_view(self, request, org_id, period):
        org, first = self._month(request, org_id, period)
        if not self._allowed(request, org, "close.reopen"):
            raise PermissionDenied
        close = MonthClose.objects.filter(organization=org, period=first).first()
        if close is None:
            raise Http404
        try:
            month_close_reopen(close=close, by=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, _("%(month)s is reopened.") % {"month": date_format(first, "F Y")})
        except CloseError as exc:
            messages.error(request, refusal_shown(exc))
        return self._back(org, first)

    def refresh_view(self, request, org_id, period):
        org, first = self._month(request, org_id, period)
        # Anyone who sees the month may ask for a fresh checklist, once a minute; those who sign it off
        # may insist (a viewer pressing Refresh repeatedly must not queue computation after computation).
        live = snapshot_request(kind="checklist", organization=org, period=first,
                                force=self._allowed(request, org, "close.sign_off"))
        if live.computed_at and live.requested_at and live.computed_at >= live.requested_at:
            messages.success(request, _("The checklist was computed again at %(time)s.") % {"time": f"{live.computed_at:%H:%M}"})
        else:
            messages.info(request, _("The checklist is being computed again; reload in a moment."))
        return self._back(org, first)

    def _connection(self, org, connection_id):
        connection = Connection.objects.filter(organization=org, pk=connection_id).select_related("organization").first()
        if connection is None:
            raise Http404
        return connection

    def evidence_view(self, request, org_id, period, connection_id):
        """The pack's download when it is ready. A GET changes nothing: otherwise the month page says
        where the build stands, and its Build button (a POST) queues one."""
        org, first = self._month(request, org_id, period)
        connection = self._connection(org, connection_id)
        pack = pack_latest(connection=connection, period=first)
        if pack_servable(pack):
            return evidence_response(pack)
        if pack is not None and pack.status in EvidencePack.ACTIVE:
            messages.info(request, _("The evidence pack for %(name)s is being built (%(progress)s%%).") % {
                "name": connection.name, "progress": pack.progress})
        else:
            messages.info(request, _("The evidence pack for %(name)s is not built for this month's current state: "
                                     "press Build.") % {"name": connection.name})
        return self._back(org, first)

    def evidence_build_view(self, request, org_id, period, connection_id):
        """Queues a build: as in the API (`POST /closes/{id}/evidence`), only for `close.sign_off`."""
        org, first = self._month(request, org_id, period)
        connection = self._connection(org, connection_id)
        if not self._allowed(request, org, "close.sign_off"):
            messages.error(request, _("Only a finance admin (permission close.sign_off) may build the evidence pack; "
                                      "nothing was queued."))
            return self._back(org, first)
        pack = pack_request(connection=connection, period=first, by=request.user)
        messages.info(request, _("The evidence pack for %(name)s: %(status)s.") % {
            "name": connection.name, "status": pack.get_status_display().lower()})
        return self._back(org, first)


@admin.register(ConnectionClosePolicy)
class ConnectionClosePolicyAdmin(SimpleHistoryAdmin, OrgScopedAdmin):
    org_path = "connection__organization"
    capability = "connections.manage"
    list_display = ("connection", "closed_period", "updated_at")
    list_select_related = ("connection",)


@admin.register(DuplicateSettings)
class DuplicateSettingsAdmin(SimpleHistoryAdmin, OrgScopedAdmin):
    org_path = "organization"
    capability = "exports.run"
    list_display = ("organization", "policy", "updated_at")


@admin.register(EvidencePack)
class EvidencePackAdmin(OrgScopedAdmin):
    """Built and building evidence packs: progress while building, the download once ready."""

    org_path = "connection__organization"
    capability = "close.sign_off"
    list_display = ("period", "connection", "status_label", "progress_label", "built_at", "size", "download")
    list_filter = ("status",)
    list_select_related = ("connection",)
    # The stored file is never linked directly (media is not served): the download goes through the
    # organisation-scoped view.
    exclude = ("file",)
    readonly_fields = [*(f.name for f in EvidencePack._meta.fields if f.name != "file"), "download"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @display(description=_("Status"), label={EvidencePack.Status.READY: "success", EvidencePack.Status.FAILED: "danger",
                                             EvidencePack.Status.BUILDING: "info", EvidencePack.Status.QUEUED: "info"})
    def status_label(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("Progress"))
    def progress_label(self, obj):
        return _("%(progress)s%% (%(done)s of %(total)s rows)") % {
            "progress": obj.progress, "done": f"{obj.rows_done:,}", "total": f"{obj.rows_total:,}"}

    @display(description=_("Download"))
    def download(self, obj):
        if obj.status != EvidencePack.Status.READY:
            return obj.error[:80] if obj.error else "–"
        url = reverse("admin:exports_monthclose_evidence",
                      args=[obj.connection.organization_id, f"{obj.period:%Y-%m}", obj.connection_id])
        return format_html('<a href="{}" class="text-primary-600">⬇ zip</a>', url)
