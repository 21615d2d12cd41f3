"""Changelist columns shared by the admins: an amount in its currency's decimals (JPY 0, KWD 3,
others 2, thousands separators) and free text (names, descriptions, merchants) in its own
direction, so Arabic keeps its order on an English page and the reverse."""

from collections.abc import Callable
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from ..formatting import bidi, money_html

AMOUNT = _("Amount")


def money_column(amount: str = "amount", currency: str = "currency", *,
                 description: str | Promise = AMOUNT) -> Callable[[Any, Any], Any]:
    """A list/detail column showing `amount` in the row's `currency`, sortable by the amount."""

    @display(description=description, ordering=amount)
    def column(self, obj):
        return money_html(getattr(obj, amount), getattr(obj, currency) or "")

    return column


def text_column(field: str, *, description: str | Promise, ordering: str | None = None) -> Callable[[Any, Any], Any]:
    """A column showing `field` (a dotted path such as "employee.name" is followed) with `dir="auto"`."""

    @display(description=description, ordering=ordering or field.replace(".", "__"))
    def column(self, obj):
        value = obj
        for part in field.split("."):
            value = getattr(value, part, None) if value is not None else None
        return bidi(str(value) if value is not None else "")

    return column
