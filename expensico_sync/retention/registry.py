"""What can be deleted or anonymised after how long, registered by the app that owns the rows.

A policy never touches what the books and the evidence chain need: amounts, accounts, dates,
references, external ids and hashes stay; only bodies, files and personal data go.
"""

from collections.abc import Callable
from dataclasses import dataclass

DELETE, ANONYMISE, CLEAR = "delete", "anonymise", "clear"


@dataclass(frozen=True)
class Policy:
    key: str
    label: str
    action: str                       # delete | anonymise | clear (bodies emptied, row kept)
    default_months: int
    # rows(organization, cutoff: datetime) -> QuerySet of what is older than the cutoff and not done yet
    rows: Callable
    # apply(queryset) -> number of rows changed
    apply: Callable
    keeps: str = ""                   # what stays, in words (shown by the dry run and the admin)


_policies: dict[str, Policy] = {}


def register_policy(key: str, label: str, *, action: str, default_months: int, rows, apply, keeps: str = "") -> Policy:
    policy = Policy(key, label, action, default_months, rows, apply, keeps)
    _policies[key] = policy
    return policy


def policies() -> list[Policy]:
    return sorted(_policies.values(), key=lambda p: p.key)


def policy(key: str) -> Policy:
    try:
        return _policies[key]
    except KeyError:
        raise LookupError(f"no retention policy {key!r}; registered: {sorted(_policies)}") from None
