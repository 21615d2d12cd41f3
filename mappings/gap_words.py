"""A mapping gap in its reader's language. `resolve` (pure, and its gaps cached and stored as they
are) writes a gap's kind as a code and its key and detail in English from the templates below; a
page names the kind, the connection settings a key can be, and a detail written from a template,
in the active language when it renders. The details are registered texts (expensico_sync/core/
texts.py): a review item stores a detail with its code, and renders it in its reader's language;
a detail stored as text alone is read back from its template (`gap_detail_text`)."""

import re

from django.utils.translation import gettext, gettext_noop, pgettext_lazy

from expensico_sync.core.texts import Said, register

GAP_KINDS = {"category": pgettext_lazy("mapping gap", "category"), "tax": pgettext_lazy("mapping gap", "tax"),
             "dimension": pgettext_lazy("mapping gap", "dimension"),
             "currency": pgettext_lazy("mapping gap", "currency"), "setting": pgettext_lazy("mapping gap", "setting"),
             "suggestion": pgettext_lazy("mapping gap", "suggestion")}

# The keys of "setting" (and the FX "currency") gaps: accounts chosen on the connection or its policy.
CLAIMS, BALANCE, FUNDING_BANK, FX_ACCOUNT = "Employee Claims", "Employees Balance", "Funding bank", \
    "FX gain/loss account"
GAP_KEYS = {CLAIMS: pgettext_lazy("mapping gap", "Employee Claims"),
            BALANCE: pgettext_lazy("mapping gap", "Employees Balance"),
            FUNDING_BANK: pgettext_lazy("mapping gap", "Funding bank"),
            FX_ACCOUNT: pgettext_lazy("mapping gap", "FX gain/loss account")}

NO_RATE = gettext_noop("no %(currency)s→%(base)s rate on or before %(on)s")
MODEL_DISAGREES = gettext_noop("the model disagrees with the mapping to %(account)s")
TAX_ACCOUNT_NEEDED = gettext_noop("a separate tax line needs a tax account")
MODEL_SUGGESTS = gettext_noop("the model suggests %(value)s (%(label)s)")
CHOOSE_ACCOUNT = gettext_noop("choose the %(which)s account on the connection")
VAT_EXCEEDS = gettext_noop("the stated VAT %(stated)s exceeds the amount %(amount)s")
FX_ACCOUNT_NEEDED = gettext_noop("the claims were booked at %(booked)s %(currency)s, paid %(paid)s: choose the "
                                 "exchange gain/loss account in the currency policy")
TEXTS = register({"gap_no_rate": NO_RATE, "gap_model_disagrees": MODEL_DISAGREES,
                  "gap_tax_account_needed": TAX_ACCOUNT_NEEDED, "gap_model_suggests": MODEL_SUGGESTS,
                  "gap_choose_account": CHOOSE_ACCOUNT, "gap_vat_exceeds": VAT_EXCEEDS,
                  "gap_fx_account_needed": FX_ACCOUNT_NEEDED})
_DETAILS = [(re.compile(re.sub(r"%\\\((\w+)\\\)s", r"(?P<\1>.+)", re.escape(template)) + r"\Z", re.S), template)
            for template in (NO_RATE, MODEL_DISAGREES, TAX_ACCOUNT_NEEDED, MODEL_SUGGESTS, CHOOSE_ACCOUNT,
                             VAT_EXCEEDS, FX_ACCOUNT_NEEDED)]


def gap_kind_label(kind: str) -> str:
    return str(GAP_KINDS.get(kind, kind))


def gap_key_label(key: str) -> str:
    """A setting's name translated; any other key (a category code, "cost_center=CC-9") as it is."""
    return str(GAP_KEYS.get(key, key))


def gap_detail_text(detail: str) -> str:
    """A detail written from one of the templates, in the active language; any other (a category's
    own name) as it is."""
    if isinstance(detail, Said) and detail.code == "gap_choose_account":
        detail = str(detail)           # its setting's name is translated below
    elif isinstance(detail, Said):
        return detail.shown()
    for pattern, template in _DETAILS:
        if match := pattern.match(detail):
            values = match.groupdict()
            if "which" in values:
                values["which"] = gap_key_label(values["which"])
            return gettext(template) % values
    return detail
