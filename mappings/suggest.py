"""Suggested remote accounts for an Expensico category: name similarity plus precedent.

The score (0–100) is rapidfuzz's WRatio between the category name and the account's code/name,
raised when this connection's exported history booked expenses of that category to the account
("used for 41 similar expenses": counted by the exports floor, registered here), when this organisation mapped the same category to an account of that name on another
connection, or when other organisations mapped a similarly named category to it. Other
organisations contribute only account *names* they chose, never their ids or data.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext, ngettext
from rapidfuzz import fuzz, process, utils

from .models import CategoryMapping, RemoteCatalogItem

PRECEDENT_OWN = 25      # the organisation chose this before: strong evidence
PRECEDENT_OTHERS = 10   # similar organisations chose it: weaker
USED_PER_EXPENSE, USED_AT_MOST = 2, 30   # each booked expense of the category adds evidence, up to a cap
NAME_MATCH_AT = 60      # a name score from here on is worth saying

# `fn(connection)` -> {category code: {account remote id: how many exported expenses it booked}}.
# The exports floor registers it: it owns the export records (mappings may not import it).
_usage_providers: list[Callable[..., Mapping[str, Mapping[str, int]]]] = []


def usage_provider_register(fn: Callable[..., Mapping[str, Mapping[str, int]]]):
    if fn not in _usage_providers:
        _usage_providers.append(fn)
    return fn


def _usage(connection) -> dict[str, dict[str, int]]:
    merged: dict[str, dict[str, int]] = {}
    for fn in _usage_providers:
        for code, accounts in fn(connection).items():
            into = merged.setdefault(code, {})
            for account, n in accounts.items():
                into[account] = into.get(account, 0) + n
    return merged


@dataclass(frozen=True)
class Reason:
    """One piece of evidence for a suggestion, put in words when a page shows it (in its reader's
    language, with the plural form the count takes there)."""
    kind: str       # used | own | others | name
    count: int = 0

    def __str__(self) -> str:
        if self.kind == "used":
            return ngettext("used for %(count)s similar expense", "used for %(count)s similar expenses",
                            self.count) % {"count": self.count}
        if self.kind == "others":
            return ngettext("chosen for a similar category %(count)s time elsewhere",
                            "chosen for a similar category %(count)s times elsewhere", self.count) % {"count": self.count}
        if self.kind == "own":
            return gettext("you map it so on another connection")
        return gettext("name match")


@dataclass(frozen=True)
class Suggestion:
    remote_id: str
    name: str
    code: str
    score: float
    reasons: tuple[Reason, ...]

    @property
    def why(self) -> str:
        """The reasons in the active language."""
        return " · ".join(str(reason) for reason in self.reasons)


def name_scores(text: str, labels: list[str]) -> dict[int, float]:
    """Index of each label -> its name similarity (0–100) to `text`."""
    return {idx: score for _, score, idx in process.extract(
        text, labels, scorer=fuzz.WRatio, processor=utils.default_process, limit=None)}


class AccountSuggester:
    """The catalog and the precedents of one connection, read once for many suggestions (a page
    of gaps asked three queries per gap, one of them 5,000 rows of other organisations' choices)."""

    def __init__(self, *, connection, kind: str = "accounts"):
        self.connection = connection
        items = list(RemoteCatalogItem.objects.filter(connection=connection, kind=kind, active=True))
        if kind == "accounts":
            # A category books to an expense account when the chart says which those are.
            expense = [i for i in items if "expense" in i.classification.lower()]
            items = expense or items
        self.items = items
        self.labels = [f"{i.code} {i.name}".strip() for i in items]
        self._own = self._others = None
        self._used: dict[str, dict[str, int]] | None = None

    def used(self, category_code: str) -> dict[str, int]:
        """Account id -> how many of this category's expenses the connection booked there (one query)."""
        if self._used is None:
            self._used = _usage(self.connection)
        return self._used.get(category_code, {})

    def _precedents(self):
        if self._own is None:
            org_id = self.connection.organization_id
            self._own = {}
            for code, name in (CategoryMapping.objects.filter(organization_id=org_id)
                               .exclude(connection=self.connection).values_list("category_code", "account_name")):
                self._own.setdefault(code, set()).add(name)
            self._others = list(CategoryMapping.objects.exclude(organization_id=org_id).exclude(account_name="")
                                .values_list("category_name", "account_name")[:5000])
        return self._own, self._others

    def suggest(self, *, text: str, category_code: str = "", limit: int = 5) -> list[Suggestion]:
        items, labels = self.items, self.labels
        if not items or not text:
            return []
        names = name_scores(text, labels)
        scores = dict(names)
        reasons: dict[int, list[Reason]] = {idx: [] for idx in range(len(items))}
        own_by_code, chosen_elsewhere = self._precedents()
        own = own_by_code.get(category_code, set()) if category_code else set()
        used = self.used(category_code) if category_code else {}
        others: dict[str, int] = {}
        for name, chosen in chosen_elsewhere:
            if name and fuzz.WRatio(text, name, processor=utils.default_process) >= 90:
                others[chosen.casefold()] = others.get(chosen.casefold(), 0) + 1
        for idx, item in enumerate(items):
            if n := used.get(item.remote_id, 0):
                scores[idx] = min(100.0, scores.get(idx, 0) + min(USED_AT_MOST, USED_PER_EXPENSE * n))
                reasons[idx].append(Reason("used", n))
            if item.name in own:
                scores[idx] = min(100.0, scores.get(idx, 0) + PRECEDENT_OWN)
                reasons[idx].append(Reason("own"))
            elif item.name.casefold() in others:
                scores[idx] = min(100.0, scores.get(idx, 0) + PRECEDENT_OTHERS)
                n = others[item.name.casefold()]
                reasons[idx].append(Reason("others", n))
            if names.get(idx, 0) >= NAME_MATCH_AT or not reasons[idx]:
                reasons[idx].append(Reason("name"))
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], labels[kv[0]]))[:limit]
        return [Suggestion(items[i].remote_id, items[i].name, items[i].code, round(s, 1), tuple(reasons[i])) for i, s in ranked]


def suggest_accounts(*, connection, text: str, category_code: str = "", limit: int = 5,
                     kind: str = "accounts") -> list[Suggestion]:
    return AccountSuggester(connection=connection, kind=kind).suggest(text=text, category_code=category_code,
                                                                      limit=limit)
