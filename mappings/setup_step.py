"""The guided connection setup's "map categories" step (registered into connectors.setup_steps)."""

from django.urls import reverse

from connectors.setup_steps import SetupStep, setup_step_register

from .dashboard import cached_gaps


@setup_step_register
def map_categories(connection) -> SetupStep:
    gaps = cached_gaps(connection)
    url = reverse("admin:mappings_mappingset_change", args=[connection.pk])
    if not gaps:
        return SetupStep("Map categories", True, "Every category of the approved expenses has an account.", url,
                         "Open the mapping set")
    listed = "; ".join(f"{g['kind']} {g['key']} ({g['expenses']} expense{'s' if g['expenses'] != 1 else ''})"
                       for g in gaps[:4])
    more = f" and {len(gaps) - 4} more" if len(gaps) > 4 else ""
    return SetupStep("Map categories", False, f"{len(gaps)} mapping{'s' if len(gaps) != 1 else ''} missing: {listed}{more}. "
                     "Expenses that need them wait for review until they are mapped.", url, "Fix the gaps")
