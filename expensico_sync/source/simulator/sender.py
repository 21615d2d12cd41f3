"""Sends a Dataset's events as signed Standard Webhooks, optionally duplicated, reordered, delayed."""

import json
import random
import time
from collections import Counter
from datetime import UTC, datetime

import requests
from standardwebhooks.webhooks import Webhook


def sign(*, secret: str, webhook_id: str, body: str, timestamp: datetime | None = None) -> dict:
    timestamp = timestamp or datetime.now(tz=UTC)
    return {"webhook-id": webhook_id, "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": Webhook(secret).sign(webhook_id, timestamp, body),
            "content-type": "application/json"}


def encode(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def plan(events: list, *, seed: int = 0, duplicates: float = 0.0, reorder: float = 0.0) -> list:
    """The delivery order: each event once, some twice (same webhook-id), some swapped with a neighbour."""
    r = random.Random(seed)
    out = []
    for event in events:
        out.append(event)
        if r.random() < duplicates:
            out.append(event)
    for i in range(len(out) - 1):
        if r.random() < reorder:
            out[i], out[i + 1] = out[i + 1], out[i]
    return out


def send_webhooks(events: list, *, url: str, secret: str, seed: int = 0, duplicates: float = 0.0,
                  reorder: float = 0.0, delay: float = 0.0, session: requests.Session | None = None) -> Counter:
    """Posts every event; returns a Counter of status codes."""
    session = session or requests.Session()
    statuses: Counter[int] = Counter()
    for webhook_id, _type, body in plan(events, seed=seed, duplicates=duplicates, reorder=reorder):
        raw = encode(body)
        response = session.post(url, data=raw.encode(), headers=sign(secret=secret, webhook_id=webhook_id, body=raw),
                                timeout=30)
        statuses[response.status_code] += 1
        if delay:
            time.sleep(delay)
    return statuses
