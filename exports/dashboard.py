"""The export engine's dashboard panel: today's throughput, backlog, review load, failure rate."""

import json
from datetime import timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from connectors.registry import system_label
from connectors.selectors import FAILED_CALL_WORDS, vendor_call_health
from expensico_sync.core.dashboard import chart_options, register_panel
from expensico_sync.core.formatting import money_text
from expensico_sync.core.models import Organization

from .metrics import Period, month_metrics
from .models import ExportRecord, ReviewItem
from .transitions import Status

CHART_DAYS = 14
COLOURS = {Status.EXPORTED: "#16a34a", Status.NEEDS_REVIEW: "#dc2626", Status.RETRY: "#f59e0b",
           Status.PENDING: "#64748b", Status.CANCELLED: "#94a3b8"}


@register_panel
def exports_panel(request, org_ids):
    records = ExportRecord.objects.filter(organization__in=org_ids)
    today = timezone.localdate()
    changelist = reverse("admin:exports_exportrecord_changelist")
    # The failure rate is the vendor-call card's rows under its definition (connectors.selectors):
    # two cards that count failures differently once said "0 failed" beside "20 %".
    health = vendor_call_health(org_ids=org_ids)
    open_items = ReviewItem.objects.filter(organization__in=org_ids, resolved_at__isnull=True)
    # Warnings sit on booked records: shown, but not counted as blockers.
    warnings = open_items.filter(reason=ReviewItem.Reason.VENDOR_WARNING).count()
    kpis = [
        {"title": _("Exported today"), "value": records.filter(status=Status.EXPORTED, exported_at__date=today).count(),
         "footer": _("documents booked"), "href": f"{changelist}?status__exact=exported"},
        {"title": _("Pending"), "value": records.filter(status__in=[Status.PENDING, Status.RETRY, Status.IN_PROGRESS,
                                                                 Status.OUTCOME_UNKNOWN]).count(),
         "footer": _("waiting, retrying or in flight"), "href": f"{changelist}?status__exact=pending"},
        {"title": _("Needs review"), "value": open_items.exclude(reason=ReviewItem.Reason.VENDOR_WARNING).count(),
         "footer": _("open review items") + (" · " + ngettext("%(count)s warning to acknowledge", "%(count)s warnings to acknowledge",
                                                      warnings) % {"count": warnings}
                                             if warnings else ""),
         "href": reverse("admin:exports_reviewitem_changelist")},
        {"title": _("Failure rate (24 h)"), "value": health.rate_text,
         "footer": _("%(failed)s of %(total)s vendor calls failed · %(window)s") % {
             "failed": health.failed, "total": health.total, "window": health.window_text},
         "help": FAILED_CALL_WORDS, "href": reverse("admin:connectors_calllog_changelist")},
    ]
    since = today - timedelta(days=CHART_DAYS - 1)
    rows = (records.filter(created_at__date__gte=since).annotate(day=TruncDate("created_at"))
            .values("day", "status").annotate(n=Count("id")))
    days = [since + timedelta(days=i) for i in range(CHART_DAYS)]
    counts = {(r["day"], r["status"]): r["n"] for r in rows}
    datasets = [{"label": str(label), "backgroundColor": COLOURS.get(value, "#0ea5e9"),
                 "data": [counts.get((d, value), 0) for d in days]}
                for value, label in Status.choices if any(counts.get((d, value)) for d in days)]
    chart = {"labels": [date_format(d, "d M") for d in days], "datasets": datasets}
    return {"kpis": kpis, "charts": [{"title": _("Export records per day, by status"), "type": "bar",
                                      "empty": "" if datasets else _("No export records in the last %(days)s days.")
                                      % {"days": CHART_DAYS},
                                      "data": json.dumps(chart),
                                      "options": chart_options(x_title=_("Day created"), y_title=_("Export records"))}]}


@register_panel
def value_panel(request, org_ids):
    """This month's value: sync rate per system, hours saved, exceptions and vendor request cost."""
    orgs = list(Organization.objects.filter(pk__in=org_ids))
    if not orgs:
        return {}
    period = Period(timezone.localdate().replace(day=1))
    months = [month_metrics(org, period) for org in orgs]
    if not any(m["systems"] for m in months):        # early in a month: show the last one instead
        period = Period(period.start - relativedelta(months=1))
        months = [month_metrics(org, period) for org in orgs]
    documents = sum(s["documents"] for m in months for s in m["systems"].values())
    exported = sum(s["exported"] for m in months for s in m["systems"].values())
    hours = sum((Decimal(m["time_saved"]["hours"]) for m in months), Decimal(0))
    by_reason: dict[str, int] = {}
    for m in months:
        for e in m["exceptions"]:
            by_reason[e["label"]] = by_reason.get(e["label"], 0) + e["count"]
    exceptions = sum(by_reason.values())
    billed = [(r["cost"], r["currency"]) for m in months for r in m["vendor_requests"] if r["cost"] and r["billed"]]
    kpis = [
        {"title": _("Sync rate (%(month)s)") % {"month": date_format(period.start, "M Y")}, "value": f"{100 * exported / documents:.1f}%" if documents else "–",
         "footer": _("%(exported)s of %(documents)s documents of the month booked") % {
             "exported": f"{exported:,}", "documents": f"{documents:,}"},
         "href": reverse("admin:exports_exportrecord_changelist")},
        {"title": _("Time saved (%(month)s)") % {"month": date_format(period.start, "M Y")}, "value": _("%(hours)s h") % {"hours": f"{hours:,.1f}"},
         "footer": _("booked without a person × %(minutes)s min each") % {
             "minutes": months[0]["time_saved"]["minutes_per_document"]}},
        {"title": _("Exceptions (%(month)s)") % {"month": date_format(period.start, "M Y")}, "value": f"{exceptions:,}",
         "footer": ", ".join(f"{label} {n}" for label, n in sorted(by_reason.items(), key=lambda kv: -kv[1])[:3])
                   or _("none"),
         "href": reverse("admin:exports_reviewitem_changelist")},
        {"title": _("Billed vendor requests (%(month)s)") % {"month": date_format(period.start, "M Y")},
         "value": ", ".join(money_text(Decimal(c), cur) for c, cur in billed) or "0",
         "footer": _("requests beyond the vendor's monthly allowance")},
    ]
    systems = sorted({name for m in months for name in m["systems"]})
    chart = {"labels": [system_label(s) for s in systems], "datasets": [
        {"label": _("Booked"), "backgroundColor": COLOURS[Status.EXPORTED],
         "data": [sum(m["systems"].get(s, {}).get("exported", 0) for m in months) for s in systems]},
        {"label": _("Not booked yet"), "backgroundColor": COLOURS[Status.PENDING],
         "data": [sum(m["systems"].get(s, {}).get("documents", 0) - m["systems"].get(s, {}).get("exported", 0)
                      for m in months) for s in systems]}]}
    return {"kpis": kpis, "charts": [{"title": _("Documents of %(month)s by system") % {"month": date_format(period.start, "F Y")},
                                      "type": "bar",
                                      "empty": "" if systems else _("No documents dated %(month)s.") % {
                                          "month": date_format(period.start, "F Y")},
                                      "data": json.dumps(chart),
                                      "options": chart_options(x_title=_("Accounting system"), y_title=_("Documents"))}]}
