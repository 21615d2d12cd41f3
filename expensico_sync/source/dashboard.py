"""Intake health on the admin dashboard: deliveries in the last 24 hours by outcome."""

from datetime import timedelta

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from expensico_sync.core.dashboard import register_panel

from .models import Expense, WebhookDelivery


@register_panel
def intake_panel(request, org_ids):
    since = timezone.now() - timedelta(hours=24)
    outcomes = dict(WebhookDelivery.objects.filter(organization__in=org_ids, received_at__gte=since)
                    .values_list("outcome").annotate(n=Count("id")))
    deliveries = reverse("admin:source_webhookdelivery_changelist")
    return {"kpis": [
        {"title": "Webhooks (24 h)", "value": sum(outcomes.values()),
         "footer": f"{outcomes.get('accepted', 0)} accepted · {outcomes.get('duplicate', 0)} duplicate · "
                   f"{outcomes.get('rejected', 0)} rejected", "href": deliveries},
        {"title": "Mirrored expenses", "value": Expense.objects.filter(organization__in=org_ids).count(),
         "footer": "approved and cancelled, all versions current", "href": reverse("admin:source_expense_changelist")},
    ]}
