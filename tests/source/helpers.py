"""Signing and posting like Expensico does."""

import json

from expensico_sync.source.simulator.sender import sign


def webhook_url(org) -> str:
    return f"/api/v1/expensico/webhooks/{org.slug}/"


def post_event(client, org, body, *, webhook_id="msg_1", secret=None, timestamp=None, raw=None, headers=None):
    """Signs and posts like Expensico does. `raw` overrides the encoded body (for malformed JSON)."""
    text = raw if raw is not None else json.dumps(body)
    signed = sign(secret=secret or org.webhook_secret, webhook_id=webhook_id, body=text, timestamp=timestamp)
    signed.update(headers or {})
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed.items() if k != "content-type"}
    return client.post(webhook_url(org), data=text.encode(), content_type="application/json", **extra)


def approved(report) -> dict:
    return {"type": "expense_report.approved", "created_at": "2026-03-02T10:00:00Z", "data": {"report": report}}
