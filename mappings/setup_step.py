"""The guided connection setup's "map categories" step (registered into connectors.setup_steps)."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from connectors.setup_steps import SetupStep, setup_step_register

from .dashboard import cached_gaps
from .gap_words import gap_key_label, gap_kind_label


@setup_step_register
def map_categories(connection) -> SetupStep:
    gaps = cached_gaps(connection)
    url = reverse("admin:mappings_mappingset_change", args=[connection.pk])
    if not gaps:
        return SetupStep(_("Map categories"), True, _("Every category of the approved expenses has an account."), url,
                         _("Open the mapping set"))
    listed = "; ".join(
        ngettext("%(kind)s %(key)s (%(count)s expense)", "%(kind)s %(key)s (%(count)s expenses)", g["expenses"])
        % {"kind": gap_kind_label(g["kind"]), "key": gap_key_label(g["key"]), "count": g["expenses"]} for g in gaps[:4])
    more = ngettext(" and %(count)s more", " and %(count)s more", len(gaps) - 4) % {
        "count": len(gaps) - 4} if len(gaps) > 4 else ""
    missing = ngettext("%(count)s mapping missing: %(listed)s%(more)s.",
                       "%(count)s mappings missing: %(listed)s%(more)s.", len(gaps)) % {
        "count": len(gaps), "listed": listed, "more": more}
    waiting = _("Expenses that need them wait for review until they are mapped.")
    return SetupStep(_("Map categories"), False, f"{missing} {waiting}", url, _("Fix the gaps"))
