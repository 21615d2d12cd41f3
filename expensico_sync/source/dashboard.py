"""Intake health on the admin dashboard: deliveries in the last 24 hours by outcome."""

from datetime import timedelta

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from expensico_sync.core.dashboard import register_panel

from .models import Expense, WebhookDelivery


@register_panel
def intake_panel(request, org_ids):
    since = timezone.now() - timedelta(hours=24)
    outcomes = dict(WebhookDelivery.objects.filter(organization__in=org_ids, received_at__gte=since)
                    .values_list("outcome").annotate(n=Count("id")))
    deliveries = reverse("admin:source_webhookdelivery_changelist")
    return {"kpis": [
        {"title": _("Webhooks (24 h)"), "value": sum(outcomes.values()),
         "footer": _("%(accepted)s accepted · %(duplicate)s duplicate · %(rejected)s rejected") % {
             "accepted": outcomes.get("accepted", 0), "duplicate": outcomes.get("duplicate", 0),
             "rejected": outcomes.get("rejected", 0)}, "href": deliveries},
        {"title": _("Mirrored expenses"), "value": Expense.objects.filter(organization__in=org_ids).count(),
         "footer": _("approved and cancelled, all versions current"), "href": reverse("admin:source_expense_changelist")},
    ]}
