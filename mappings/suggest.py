"""Suggested remote accounts for an Expensico category: name similarity plus precedent.

The score (0–100) is rapidfuzz's WRatio between the category name and the account's code/name,
raised when this organisation mapped the same category to an account of that name on another
connection, or when other organisations mapped a similarly named category to it. Other
organisations contribute only account *names* they chose, never their ids or data.
"""

from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from .models import CategoryMapping, RemoteCatalogItem

PRECEDENT_OWN = 25      # the organisation chose this before: strong evidence
PRECEDENT_OTHERS = 10   # similar organisations chose it: weaker


@dataclass(frozen=True)
class Suggestion:
    remote_id: str
    name: str
    code: str
    score: float
    why: str


def name_scores(text: str, labels: list[str]) -> dict[int, float]:
    """Index of each label -> its name similarity (0–100) to `text`."""
    return {idx: score for _, score, idx in process.extract(
        text, labels, scorer=fuzz.WRatio, processor=utils.default_process, limit=None)}


def suggest_accounts(*, connection, text: str, category_code: str = "", limit: int = 5,
                     kind: str = "accounts") -> list[Suggestion]:
    items = list(RemoteCatalogItem.objects.filter(connection=connection, kind=kind, active=True))
    if kind == "accounts":
        # A category books to an expense account when the chart says which those are.
        expense = [i for i in items if "expense" in i.classification.lower()]
        items = expense or items
    if not items or not text:
        return []
    labels = [f"{i.code} {i.name}".strip() for i in items]
    scores = name_scores(text, labels)
    why = {idx: "name similarity" for idx in scores}

    own = set(CategoryMapping.objects.filter(organization_id=connection.organization_id, category_code=category_code)
              .exclude(connection=connection).values_list("account_name", flat=True)) if category_code else set()
    others = set()
    for name, chosen in (CategoryMapping.objects.exclude(organization_id=connection.organization_id)
                         .exclude(account_name="").values_list("category_name", "account_name")[:5000]):
        if name and fuzz.WRatio(text, name, processor=utils.default_process) >= 90:
            others.add(chosen.casefold())
    for idx, item in enumerate(items):
        if item.name in own:
            scores[idx] = min(100.0, scores.get(idx, 0) + PRECEDENT_OWN)
            why[idx] = "mapped so on another connection"
        elif item.name.casefold() in others:
            scores[idx] = min(100.0, scores.get(idx, 0) + PRECEDENT_OTHERS)
            why[idx] = "similar organisations chose it"
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], labels[kv[0]]))[:limit]
    return [Suggestion(items[i].remote_id, items[i].name, items[i].code, round(s, 1), why[i]) for i, s in ranked]
