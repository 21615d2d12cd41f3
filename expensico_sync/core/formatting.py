"""How amounts and free text are shown: amounts with their currency's decimals (JPY 0, KWD 3,
others 2) and thousands separators; text in either language isolated with `dir="auto"`, so an
Arabic description keeps its own order inside an English page (and the reverse)."""

import re
from decimal import Decimal

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from expensico_sync.source.schemas import minor_exponent


def currency_decimals(currency: str) -> int:
    try:
        return minor_exponent(currency)
    except Exception:  # an unknown code: show what was stored, with the common two decimals
        return 2


def money_text(amount: Decimal | None, currency: str) -> str:
    """`1,234.50 SAR`, `12,000 JPY`, `3.250 KWD`; an empty string without an amount."""
    if amount is None:
        return ""
    places = currency_decimals(currency)
    return f"{Decimal(amount):,.{places}f} {currency}".strip()


def money_html(amount: Decimal | None, currency: str) -> SafeString | str:
    """The amount kept left to right (digits and code) even on an Arabic page."""
    text = money_text(amount, currency)
    return format_html('<span dir="ltr" class="whitespace-nowrap tabular-nums">{}</span>', text) if text else "—"


# Digits joined by separators (dates, times, references). After Arabic letters the Unicode bidi
# algorithm treats digits as Arabic numbers, and a "-" between them as a neutral: 2026-01-03 came
# out as 03-01-2026. Each such run is isolated left to right.
NUMBER_RUN = re.compile(r"\d+(?:[-/.:,]\d+)+")


def bidi_html(text: str) -> SafeString:
    """The escaped text with each number run isolated left to right (no outer element)."""
    escaped = str(escape(text))
    return mark_safe(NUMBER_RUN.sub(lambda m: f'<span dir="ltr">{m.group(0)}</span>', escaped))


def bidi(text: str | None) -> SafeString | str:
    """Free text in its own direction: `مكافأة سائق - 2026-01-03` stays in its order."""
    return format_html('<span dir="auto">{}</span>', bidi_html(text)) if text else "—"


def clipped(text: str | None, *, width: str = "14rem") -> SafeString | str:
    """Free text cut to `width` with an ellipsis, the whole text in its tooltip: a long name or key
    keeps a list inside the screen."""
    if not text:
        return "—"
    return format_html('<span dir="auto" class="cell-clip" style="max-width: {}" title="{}">{}</span>',
                       width, text, bidi_html(text))
