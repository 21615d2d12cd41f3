"""The organisation's own mileage and per-diem rates (versioned): mileage and per-diem expenses
are recomputed from their details and a difference from Expensico's amount is flagged."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from expensico_sync.core.admin.scoping import OrgScopedAdmin

from ..models import AllowanceRate


@admin.register(AllowanceRate)
class AllowanceRateAdmin(SimpleHistoryAdmin, OrgScopedAdmin):
    org_path = "organization"
    capability = "mappings.edit"
    list_display = ("organization", "kind", "destination", "rate", "currency", "effective_from")
    list_filter = ("kind", "currency")
    fields = ("organization", "kind", "currency", "rate", "destination", "effective_from")
