"""Drift of the learned categoriser: its weekly accuracy on the latest reviewer corrections (how
often the suggestion a reviewer answered was the account they kept), against the held-out
accuracy it was promoted on. Shown on the dashboard; a drop alerts through the notifications."""

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from expensico_sync.core.dashboard import register_panel
from expensico_sync.notify.kinds import register_kind

from .models import CodingCorrection
from .training import promoted_row

WEEKS = 8
MIN_WEEKLY = 20          # fewer answered suggestions in a week: too few to call it drift
DROP = 0.10              # ten points under the promoted model's held-out accuracy
DRIFT = register_kind("categoriser.drift", gettext_lazy("Categoriser accuracy dropped on recent corrections"),
                      roles={"owner", "finance_admin"})


@dataclass(frozen=True)
class Week:
    start: date
    answered: int
    right: int

    @property
    def accuracy(self) -> float | None:
        return self.right / self.answered if self.answered else None


def weekly_accuracy(connection, *, today: date | None = None, weeks: int = WEEKS) -> list[Week]:
    """The last `weeks` weeks (Monday first, oldest first, this week last)."""
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=weeks - 1)
    counts: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for at, account, predicted in (CodingCorrection.objects.filter(
            connection=connection, created_at__date__gte=first).exclude(predicted_account="")
            .values_list("created_at", "account", "predicted_account")):
        day = timezone.localtime(at).date()
        week = counts[day - timedelta(days=day.weekday())]
        week[0] += 1
        week[1] += account == predicted
    return [Week(first + timedelta(weeks=i), *counts[first + timedelta(weeks=i)]) for i in range(weeks)]


def drift_of(connection, *, today: date | None = None) -> str:
    """A sentence when last complete week's accuracy fell ten points under the promoted model's
    held-out accuracy on enough answers; "" otherwise."""
    model = promoted_row(connection)
    last = weekly_accuracy(connection, today=today, weeks=2)[0]
    if model is None or last.answered < MIN_WEEKLY or last.accuracy is None:
        return ""
    if last.accuracy > model.heldout_accuracy - DROP:
        return ""
    return (f"Model v{model.version} was right on {last.right} of {last.answered} suggestions reviewers answered in the "
            f"week of {last.start:%d %b} ({last.accuracy:.0%}); it was promoted at {model.heldout_accuracy:.0%} on "
            "held-out expenses. Spending has changed: retrain it (the corrections are learnt) or check the mappings.")


def drift_chart(connections) -> dict[str, str]:
    """Chart.js data and options (JSON, for Unfold's chart components) of the weekly accuracy of
    each connection's model on the corrections reviewers made, with the held-out accuracy it was
    promoted on as a dashed reference line; axes titled, legend shown."""
    labels: list[str] = []
    datasets = []
    for connection in connections:
        weeks = weekly_accuracy(connection)
        labels = [w.start.strftime("%d %b") for w in weeks]
        datasets.append({"label": f"{connection.name}: accuracy on answered suggestions",
                         "data": [round(100 * w.accuracy, 1) if w.accuracy is not None else None for w in weeks],
                         "borderColor": "var(--color-primary-600)", "backgroundColor": "var(--color-primary-600)",
                         "pointRadius": 4, "spanGaps": True})
        model = promoted_row(connection)
        if model is not None:
            datasets.append({"label": f"{connection.name}: v{model.version} held-out accuracy",
                             "data": [round(100 * model.heldout_accuracy, 1)] * len(weeks),
                             "borderColor": "#9ca3af", "backgroundColor": "#9ca3af", "borderDash": [6, 4],
                             "pointRadius": 0})
    axis = {"color": "#9ca3af"}
    options = {"animation": False, "responsive": True, "maintainAspectRatio": False,
               "plugins": {"legend": {"display": True, "position": "bottom",
                                      "labels": {"color": "#6b7280", "usePointStyle": True}}},
               "scales": {"x": {"title": {"display": True, "text": "Week starting (Monday)", **axis},
                                "ticks": axis},
                          "y": {"min": 0, "max": 100, "title": {"display": True, "text": "Accuracy (%)", **axis},
                                "ticks": axis}}}
    return {"data": json.dumps({"labels": labels, "datasets": datasets}), "options": json.dumps(options)}


@register_panel
def categoriser_drift_panel(request, org_ids):
    from .models import MappingSet

    connections = [c for c in MappingSet.objects.filter(organization_id__in=org_ids).order_by("name")
                   if promoted_row(c) is not None]
    if not connections:
        return {}
    latest = [w for c in connections for w in weekly_accuracy(c)[-2:-1] if w.answered]
    answered, right = sum(w.answered for w in latest), sum(w.right for w in latest)
    return {"kpis": [{"title": "Categoriser accuracy last week", "href": reverse(
                          "admin:mappings_categorisermodel_changelist"),
                      "value": f"{100 * right / answered:.0f}%" if answered else "–",
                      "footer": f"on {answered} answered suggestion(s)" if answered else "no suggestions answered"}],
            "charts": [{"title": "Categoriser drift: weekly accuracy on reviewer corrections", "type": "line",
                        **drift_chart(connections)}]}
