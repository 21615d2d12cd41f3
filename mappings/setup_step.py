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
    blocked = sum(g["expenses"] for g in gaps)
    kinds = ", ".join(sorted({g["kind"] for g in gaps}))
    return SetupStep("Map categories", False, f"{len(gaps)} mapping{'s' if len(gaps) != 1 else ''} missing ({kinds}): "
                     f"{blocked} expense{'s' if blocked != 1 else ''} would wait for them.", url, "Fix the gaps")
