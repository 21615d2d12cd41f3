"""List filters that show a vendor by its name, not its registry key."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .registry import vendors


class SystemFilter(admin.SimpleListFilter):
    title = _("accounting system")
    parameter_name = "system"

    def lookups(self, request, model_admin):
        return [(v.key, v.label) for v in sorted(vendors(), key=lambda v: v.label)]

    def queryset(self, request, queryset):
        return queryset.filter(system=self.value()) if self.value() else queryset
