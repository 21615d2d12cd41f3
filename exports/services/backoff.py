"""Exponential backoff with jitter; a vendor's Retry-After wins over our own guess."""

import random

from django.conf import settings


def next_delay(attempts: int, *, retry_after: float | None = None) -> float:
    """Seconds to wait before attempt `attempts + 1`."""
    if retry_after is not None and retry_after >= 0:
        # A little spread so records released together do not hit the vendor together again.
        return float(retry_after) + random.uniform(0, min(5.0, float(retry_after) * 0.1))
    base = getattr(settings, "EXPORTS_BACKOFF_BASE_SECONDS", 30)
    cap = getattr(settings, "EXPORTS_BACKOFF_CAP_SECONDS", 3600)
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    return random.uniform(ceiling / 2, ceiling)  # "equal jitter": never less than half the step
