"""bench/reconcile.py's set-up helper: a sandbox row copied under another reference and date.

A month of 10,000 documents is seeded by pushing one through the production connector and
copying it in the sandbox's books (each vendor's `sandbox/bench.py` `copy_document`), so the set-up
does not wait on a vendor's rate limit; only the reconciliation that follows is measured."""

from collections.abc import Mapping
from typing import Any


def relabelled(value: Any, swaps: Mapping[str, str]) -> Any:
    """A deep copy of `value` in which every string has each `swaps` key replaced by its value
    (a reference, an ISO date); numbers, None and dict keys are kept as they are."""
    if isinstance(value, str):
        for old, new in swaps.items():
            if old:
                value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {key: relabelled(item, swaps) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(relabelled(item, swaps) for item in value)
    return value
