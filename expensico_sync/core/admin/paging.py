"""Changelists over millions of rows: the planner's estimate instead of COUNT(*), and list-filter
choices that never scan a large table per request."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise
else:
    StrOrPromise = str


def planner_estimate(queryset) -> int | None:
    """PostgreSQL's estimate of the rows a queryset returns; None elsewhere."""
    db = connections[queryset.db]
    if db.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with db.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    return int(plan[0]["Plan"]["Plan Rows"])


def about(n: int) -> str:
    for size, unit in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if n >= size:
            return f"{n / size:.1f} {unit}".replace(".0 ", " ")
    return str(n)


class EstimatedCountPaginator(Paginator):
    """COUNT(*) reads every matching row: above ADMIN_ESTIMATED_COUNT_ABOVE (by the planner's
    estimate) the changelist shows "about 1.2 M" instead; below, the exact count."""

    template_name = "admin/estimated_pagination.html"

    @cached_property
    def estimated(self) -> bool:
        return self._counted[1]

    @cached_property
    def _counted(self) -> tuple[int, bool]:
        estimate = planner_estimate(self.object_list) if hasattr(self.object_list, "query") else None
        if estimate is not None and estimate > settings.ADMIN_ESTIMATED_COUNT_ABOVE:
            return estimate, True
        return super().count, False

    @cached_property
    def count(self) -> int:
        return self._counted[0]

    @cached_property
    def count_label(self) -> str:
        n, estimated = self._counted
        return _("about %(count)s") % {"count": about(n)} if estimated else str(n)


def values_filter(field: str, title: StrOrPromise | None = None, choices=None, ttl: int = 600):
    """A list filter on a plain column. Django's default lists the column's distinct values with a
    DISTINCT over the whole table on every request; this takes fixed `choices` (or a function
    returning them), or the distinct values cached for `ttl` seconds."""

    class _Filter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            if choices is not None:
                return [(c, c) if isinstance(c, str) else c for c in (choices() if callable(choices) else choices)]
            key = f"admin:values:{model_admin.model._meta.label_lower}:{field}"
            values = cache.get(key)
            if values is None:
                values = list(model_admin.model._default_manager.order_by(field).values_list(field, flat=True)
                              .distinct()[:100])
                cache.set(key, values, ttl)
            return [(v, v or "—") for v in values]

        def queryset(self, request, queryset):
            value = self.value()
            return queryset if value is None else queryset.filter(**{field: value})

    _Filter.title = title or field.replace("_", " ")
    _Filter.__name__ = f"{field.title().replace('_', '')}ValuesFilter"
    return _Filter
