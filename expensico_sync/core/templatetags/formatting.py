"""Template filters for the admin's own pages: `{{ amount|money:currency }}` (the currency's decimals,
thousands separators, kept left to right) and `{{ text|bidi }}` (free text in its own direction)."""

from django import template

from ..formatting import bidi as bidi_text
from ..formatting import money_html

register = template.Library()


@register.filter
def money(amount, currency):
    return money_html(amount, currency or "")


@register.filter
def bidi(text):
    return bidi_text(str(text) if text is not None else "")
