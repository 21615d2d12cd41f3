"""Where an item's fix is made, for the kinds whose fix is not on the item itself: the month to
reopen or the closed-period policy (a closed period), the mapping the vendor would refuse
(pre-flight), the earlier expense to compare with (a possible duplicate), the anomaly flag to
dismiss or confirm. Shown before the item's own button on the queue and on its page."""

from collections.abc import Callable

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from mappings.models import CategoryMapping

from .models import ConnectionClosePolicy, ReviewItem

R = ReviewItem.Reason


def _close_links(item: ReviewItem) -> list[tuple[str, str]]:
    record = item.record
    if item.context.get("closed_by") == "close" and item.context.get("period"):
        url = reverse("admin:exports_monthclose_month", args=[item.organization_id, item.context["period"]])
        return [(url, _("Reopen %(period)s (month close)") % {"period": item.context["period"]})]
    policy = ConnectionClosePolicy.objects.filter(connection_id=record.connection_id).values_list("pk", flat=True)
    url = (reverse("admin:exports_connectionclosepolicy_change", args=[policy[0]]) if policy else
           reverse("admin:exports_connectionclosepolicy_add") + "?" + urlencode({"connection": record.connection_id}))
    return [(url, _("Closed-period policy (or reopen the period in the vendor)"))]


def _preflight_links(item: ReviewItem) -> list[tuple[str, str]]:
    record = item.record
    field = str(item.context.get("field", ""))
    expense = record.expense if record.expense_id else None
    if expense is not None and field.startswith("lines[") and field.endswith(".account"):
        code = expense.category.code
        # The mapping the engine used: for the expense's funding source if there is one, else the general one.
        found = (CategoryMapping.objects.filter(connection_id=record.connection_id, category_code=code,
                                                funding_source__in=(expense.funding_source, ""))
                 .order_by("-funding_source").values_list("pk", flat=True))
        url = (reverse("admin:mappings_categorymapping_change", args=[found[0]]) if found else
               reverse("admin:mappings_categorymapping_add") + "?" + urlencode(
                   {"connection": str(record.connection_id), "category_code": code}))
        return [(url, _("Correct the mapping · category %(code)s") % {"code": code})]
    url = reverse("admin:connectors_connection_change", args=[record.connection_id])
    return [(url, _("Open the connection's settings"))]


def _duplicate_links(item: ReviewItem) -> list[tuple[str, str]]:
    url = reverse("admin:source_expense_changelist")
    links = [(f"{url}?{urlencode({'q': match['expense']})}", _("Compare with %(expense)s") % {"expense": match["expense"]})
             for match in item.context.get("duplicates", []) if match.get("expense")]
    if not item.is_warning:   # held: skipping it is the other answer (booked and flagged: acknowledged)
        links.append((reverse("admin:exports_reviewitem_skip_one", args=[item.pk]), _("Skip: it is a duplicate")))
    return links


def _anomaly_links(item: ReviewItem) -> list[tuple[str, str]]:
    flag = item.context.get("anomaly_flag")
    if not flag:
        return []
    return [(reverse("admin:exports_anomalyflag_change", args=[flag]), _("Dismiss or confirm the anomaly flag"))]


LINKS: dict[str, Callable[[ReviewItem], list[tuple[str, str]]]] = {R.PERIOD_CLOSED: _close_links, R.PREFLIGHT_FAILED: _preflight_links,
         R.POSSIBLE_DUPLICATE: _duplicate_links, R.ANOMALY: _anomaly_links}


def where_to_fix(item: ReviewItem) -> list[tuple[str, str]]:
    """(url, label) pairs for an open item; [] for the kinds fixed on the item itself."""
    links = LINKS.get(item.reason)
    return links(item) if links and item.is_open else []
