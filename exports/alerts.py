"""Alerts and digest sections the export engine contributes to the notifications outbox.

Alerts come from a scan (every few minutes, a django-q2 schedule), not from the hot path: each
watched condition alerts once when it turns true (expensico_sync.notify.conditions).
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from connectors.base import connector_class
from connectors.models import CallLog, Connection
from expensico_sync.core.models import Organization
from expensico_sync.notify.conditions import observe
from expensico_sync.notify.digest import Section, register_section
from expensico_sync.notify.kinds import register_kind
from expensico_sync.notify.services import notify

from .models import ExportAttempt, ExportRecord, MonthClose, Reconciliation, ReviewItem
from .transitions import Status

MANAGERS = {"owner", "finance_admin"}
BREAKER = register_kind("connection.breaker_opened", gettext_lazy("Connection paused after repeated failures"), roles=MANAGERS)
AUTH = register_kind("connection.auth_rejected", gettext_lazy("Connection needs re-authorising"), roles=MANAGERS)
STALLED = register_kind("connection.stalled", gettext_lazy("Connection exported nothing while work is waiting"), roles=MANAGERS)
ERROR_RATE = register_kind("connection.error_rate", gettext_lazy("Connection error rate spike"), roles=MANAGERS)
EXPIRY = register_kind("connection.credential_expiry", gettext_lazy("Vendor credential about to expire"), roles=MANAGERS)
ALLOWANCE = register_kind("connection.request_allowance", gettext_lazy("Vendor's monthly request allowance mostly used (80 %)"),
                          roles=MANAGERS)
LATENCY = register_kind("connection.latency", gettext_lazy("Vendor answering slowly"), roles=MANAGERS)
SLA = register_kind("review.past_sla", gettext_lazy("Review items past their SLA"), roles={"reviewer", "owner"})
SLA_ESCALATED = register_kind("review.sla_escalated", gettext_lazy("Review items long past their SLA (escalated)"),
                              roles={"finance_admin"})
PENDING = (Status.PENDING, Status.RETRY, Status.OUTCOME_UNKNOWN)


# Scans other modules add (sync anomalies: each connection against its own past), registered on import.
_extra_scans: list[Callable[[datetime], int]] = []


def scan_register(fn: Callable[[datetime], int]) -> Callable[[datetime], int]:
    _extra_scans.append(fn)
    return fn


def scan(now=None) -> int:
    """Checks every active connection and organisation; returns how many alerts it raised."""
    now = now or timezone.now()
    raised = 0
    for connection in Connection.objects.select_related("organization"):
        raised += _connection(connection, now)
    queue = reverse("admin:exports_reviewitem_changelist") + "?o=3"
    for org_id, name, count, late in _past_sla(now):
        raised += _raise(f"sla:{org_id}", count > 0, SLA.key, connection=None, organization_id=org_id,
                         subject=lambda count=count, name=name: ngettext(
                             "%(count)s review item past its SLA in %(name)s",
                             "%(count)s review items past their SLA in %(name)s", count) % {"count": count, "name": name},
                         text=lambda count=count, name=name: ngettext(
                             "%(count)s open review item in %(name)s is past its SLA. Work the oldest first.",
                             "%(count)s open review items in %(name)s are past their SLA. Work the oldest first.",
                             count) % {"count": count, "name": name},
                         link=queue)
        raised += _raise(f"sla_escalated:{org_id}", late > 0, SLA_ESCALATED.key, connection=None,
                         organization_id=org_id,
                         subject=lambda late=late, name=name: _(
                             "Escalated: %(count)s review item(s) in %(name)s still open") % {"count": late, "name": name},
                         text=lambda late=late, name=name: _(
                             "%(count)s review item(s) in %(name)s are more than %(hours)s h past their SLA and nobody "
                             "has resolved them. Assign an owner or resolve them.") % {
                             "count": late, "name": name, "hours": settings.ALERT_SLA_ESCALATE_HOURS},
                         link=queue)
    return raised + sum(extra(now) for extra in _extra_scans)


def _connection(connection: Connection, now) -> int:
    label = f"{connection.name} ({connection.organization.name})"
    link = reverse("admin:connectors_connection_change", args=[connection.pk])
    records = ExportRecord.objects.filter(connection=connection)
    hour = ExportAttempt.objects.filter(record__connection=connection, finished_at__gte=now - timedelta(hours=1))
    stats = hour.aggregate(total=Count("id"), failed=Count("id", filter=Q(
        outcome__in=[ExportAttempt.Outcome.RETRY, ExportAttempt.Outcome.OUTCOME_UNKNOWN,
                     ExportAttempt.Outcome.NEEDS_REVIEW]) & ~Q(error_class="")))
    stalled_after = timedelta(hours=settings.ALERT_STALLED_HOURS)
    waiting = records.filter(status__in=PENDING, created_at__lt=now - stalled_after).exists()
    recent_export = records.filter(status=Status.EXPORTED, exported_at__gte=now - stalled_after).exists()
    auth_items = ReviewItem.objects.filter(record__connection=connection, reason=ReviewItem.Reason.AUTH,
                                           resolved_at__isnull=True).count()
    rate = stats["failed"] / stats["total"] if stats["total"] else 0
    p95 = _p95_ms(connection, now)
    allowance, used = _allowance(connection, now)
    month = f"{now:%Y-%m}"
    # Subjects and texts are written per recipient language (notify() calls them with it active).
    paused = f"{connection.paused_until:%H:%M}" if connection.paused_until else ""
    values = {"label": label, "failures": connection.consecutive_failures, "until": paused, "items": auth_items,
              "hours": settings.ALERT_STALLED_HOURS, "rate": f"{rate:.0%}", "failed": stats["failed"],
              "total": stats["total"], "p95": f"{p95 or 0:,}", "from": f"{settings.ALERT_LATENCY_MS:,}",
              "expires": connection.credentials_expire_on, "used": f"{used:,}", "allowance": f"{allowance or 0:,}"}

    def words(message: str) -> Callable[[], str]:
        return lambda: _(message) % values

    checks = [
        (f"breaker:{connection.pk}", bool(connection.paused_until and connection.paused_until > now), BREAKER,
         words(gettext_noop("%(label)s is paused after repeated failures")),
         words(gettext_noop("The vendor failed %(failures)s times in a row; exports to %(label)s are paused until "
                            "%(until)s UTC and resume by themselves."))),
        (f"auth:{connection.pk}", auth_items > 0, AUTH, words(gettext_noop("%(label)s needs re-authorising")),
         words(gettext_noop("The vendor rejected the credentials of %(label)s; %(items)s document(s) wait. "
                            "Reconnect it."))),
        (f"stalled:{connection.pk}", waiting and not recent_export, STALLED,
         words(gettext_noop("%(label)s exported nothing for %(hours)s h")),
         words(gettext_noop("Documents have been waiting for more than %(hours)s hours and nothing was exported to "
                            "%(label)s in that time."))),
        (f"error_rate:{connection.pk}", stats["total"] >= settings.ALERT_ERROR_RATE_MIN_ATTEMPTS
         and rate >= settings.ALERT_ERROR_RATE, ERROR_RATE, words(gettext_noop("%(label)s: %(rate)s of vendor calls failed")),
         words(gettext_noop("%(failed)s of %(total)s attempts to %(label)s failed in the last hour."))),
        (f"latency:{connection.pk}", p95 is not None and p95 >= settings.ALERT_LATENCY_MS, LATENCY,
         words(gettext_noop("%(label)s answers slowly (p95 %(p95)s ms)")),
         words(gettext_noop("In the last hour 5 %% of the calls to %(label)s took %(p95)s ms or more (alert from "
                            "%(from)s ms). Exports continue; a slow vendor may soon time out."))),
        (f"expiry:{connection.pk}:{connection.credentials_expire_on}", _expires_soon(connection, now), EXPIRY,
         words(gettext_noop("%(label)s: its credential expires on %(expires)s")),
         words(gettext_noop("The API key or client secret of %(label)s stops working on %(expires)s. Create a new "
                            "one at the vendor and enter it on the connection before then."))),
        (f"allowance:{connection.pk}:{month}", allowance is not None and used >= 0.8 * allowance, ALLOWANCE,
         words(gettext_noop("%(label)s has used %(used)s of its %(allowance)s included requests this month")),
         words(gettext_noop("Requests beyond %(allowance)s a month are billed by the vendor. Reconciliations and "
                            "verification show their cost before they run; consider batching or pausing non-urgent "
                            "work."))),
    ]
    return sum(_raise(key, active, kind.key, connection=connection, organization_id=connection.organization_id,
                      subject=subject, text=text, link=link)
               for key, active, kind, subject, text in checks)


def _raise(key, active, kind_key, *, connection, organization_id, subject, text, link) -> int:
    with transaction.atomic():
        incident = observe(key, active)
        if incident is None:
            return 0
        notify(kind_key, organization=Organization.objects.get(pk=organization_id), incident=incident,
               subject=subject, text=text, link=link)
        return 1


def _expires_soon(connection: Connection, now) -> bool:
    expires = connection.credentials_expire_on
    return bool(expires) and expires <= (now + timedelta(days=settings.ALERT_CREDENTIAL_EXPIRY_DAYS)).date()


def _allowance(connection: Connection, now) -> tuple[int | None, int]:
    try:
        allowance = connector_class(connection.system).monthly_request_allowance
    except LookupError:
        return None, 0
    if not allowance:
        return None, 0
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return allowance, CallLog.objects.filter(connection=connection, created_at__gte=start).count()


def _p95_ms(connection: Connection, now) -> int | None:
    durations = sorted(CallLog.objects.filter(connection=connection, created_at__gte=now - timedelta(hours=1))
                       .values_list("duration_ms", flat=True)[:5000])
    if len(durations) < settings.ALERT_ERROR_RATE_MIN_ATTEMPTS:
        return None
    return durations[int(0.95 * (len(durations) - 1))]


def _past_sla(now):
    escalate = now - timedelta(hours=settings.ALERT_SLA_ESCALATE_HOURS)
    rows = (ReviewItem.objects.filter(resolved_at__isnull=True)
            .values("organization_id", "organization__name")
            .annotate(n=Count("id", filter=Q(sla_due_at__lt=now)), late=Count("id", filter=Q(sla_due_at__lt=escalate))))
    return [(r["organization_id"], r["organization__name"], r["n"], r["late"]) for r in rows]


# Digest sections -------------------------------------------------------------------------------
@register_section("exports.activity", order=10)
def activity(organization, since):
    records = ExportRecord.objects.filter(organization=organization)
    exported = records.filter(status=Status.EXPORTED, exported_at__gte=since).count()
    held = ReviewItem.objects.filter(organization=organization, resolved_at__isnull=True).count()
    failed = ExportAttempt.objects.filter(record__organization=organization, finished_at__gte=since,
                                          outcome=ExportAttempt.Outcome.NEEDS_REVIEW).exclude(error_class="").count()
    waiting = records.filter(status__in=PENDING).count()
    return Section(_("Exports"), [(_("Booked"), f"{exported:,}"), (_("Waiting or retrying"), f"{waiting:,}"),
                                  (_("Held for review (open)"), f"{held:,}"), (_("Refused by the vendor"), f"{failed:,}")],
                   reverse("admin:exports_exportrecord_changelist"))


@register_section("exports.oldest_review", order=20)
def oldest_review(organization, since):
    items = (ReviewItem.objects.filter(organization=organization, resolved_at__isnull=True)
             .select_related("record").order_by("created_at")[:5])
    rows = [(f"{item.get_reason_display()} · {item.record.reference}",
             _("since %(when)s") % {"when": date_format(item.created_at, "j M H:i")})
            for item in items]
    return Section(_("Oldest open review items"), rows, reverse("admin:exports_reviewitem_changelist"))


@register_section("exports.blocked_by_gaps", order=30)
def blocked_by_gaps(organization, since):
    blocked = (ReviewItem.objects.filter(organization=organization, resolved_at__isnull=True,
                                         reason=ReviewItem.Reason.MAPPING_GAP)
               .values("record__expense__currency").annotate(n=Count("id"), amount=Sum("record__expense__amount"))
               .order_by("-n")[:5])
    rows = [(ngettext("%(count)s document blocked by mapping gaps", "%(count)s documents blocked by mapping gaps",
                      row["n"]) % {"count": row["n"]}, f"{row['record__expense__currency'] or ''} {row['amount'] or 0:,}".strip())
            for row in blocked]
    return Section(_("Mapping gaps"), rows, reverse("admin:exports_reviewitem_changelist") + "?reason__exact=mapping_gap")


@register_section("close.status", order=40)
def close_status(organization, since):
    """Last month's close: signed off or not, and each connection's reconciliation."""
    last = timezone.localdate().replace(day=1) - relativedelta(months=1)
    close = MonthClose.objects.filter(organization=organization, period=last).first()
    rows = [(date_format(last, "F Y"), close.get_status_display() if close else _("Open"))]
    for connection in Connection.objects.filter(organization=organization).order_by("name"):
        run = (Reconciliation.objects.filter(connection=connection, period=last, status="finished")
               .order_by("-created_at").first())
        if run is None:
            rows.append((_("Reconciliation · %(name)s") % {"name": connection.name}, _("not run")))
        else:
            open_differences = run.differences.filter(explained_at__isnull=True).count()
            rows.append((_("Reconciliation · %(name)s") % {"name": connection.name},
                         ngettext("%(count)s unexplained difference", "%(count)s unexplained differences",
                                  open_differences) % {"count": open_differences} if open_differences
                         else _("reconciled")))
    return Section(_("Month-end close"), rows, reverse("admin:exports_monthclose_months"))
