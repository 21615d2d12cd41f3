"""Webhook intake (expensico-api.md §1): verify, log, mirror and announce in one transaction."""

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from rest_framework import serializers
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from expensico_sync.core.api.errors import error_body

from .mirror import event_apply
from .models import WebhookDelivery
from .schemas import parse_json, validate_event

KEPT_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "user-agent")


@dataclass(frozen=True)
class IntakeResult:
    status: int
    body: dict
    delivery: WebhookDelivery | None = None


def _client_error(code: str, detail: str) -> dict:
    return {"type": "client_error", "errors": [{"code": code, "detail": detail, "attr": None}]}


def signature_verify(*, secrets: list[str], body: bytes, headers: Mapping[str, str]) -> bool:
    """Standard Webhooks v1 against each valid secret (rotation); the library enforces ±5 minutes."""
    for secret in secrets:
        try:
            Webhook(secret).verify(body, dict(headers), json_parse=False)
            return True
        except (WebhookVerificationError, ValueError):
            # ValueError covers malformed signature lists, bad base64 and non-UTF-8 bodies.
            continue
    return False


def _log(organization, webhook_id: str, body: bytes, headers: dict, outcome: str, reason: str = "",
         event_type: str = "", decisions=None) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        organization=organization, webhook_id=webhook_id, event_type=event_type,
        body=body.decode("utf-8", errors="replace"), headers=headers, outcome=outcome, reason=reason,
        signature_valid=True, decisions=decisions or [])


def _duplicate(organization, webhook_id, body, headers) -> IntakeResult:
    _log(organization, webhook_id, body, headers, WebhookDelivery.Outcome.DUPLICATE, "webhook-id already accepted")
    return IntakeResult(200, {"status": "duplicate"})


def webhook_receive(*, organization, body: bytes, headers: Mapping[str, str]) -> IntakeResult:
    lowered = {k.lower(): v for k, v in headers.items()}
    if not signature_verify(secrets=organization.webhook_secrets(), body=body, headers=lowered):
        return IntakeResult(401, _client_error("invalid_signature",
                                               "Missing or invalid signature, or timestamp outside ±5 minutes."))
    webhook_id = lowered["webhook-id"]
    if len(webhook_id) > WebhookDelivery._meta.get_field("webhook_id").max_length:
        return IntakeResult(400, {"type": "validation_error", "errors": [
            {"code": "max_length", "detail": "webhook-id is longer than 200 characters.", "attr": "webhook-id"}]})
    kept = {k: lowered[k] for k in KEPT_HEADERS if k in lowered}
    accepted = WebhookDelivery.objects.filter(organization=organization, webhook_id=webhook_id,
                                              outcome=WebhookDelivery.Outcome.ACCEPTED)
    if accepted.exists():
        return _duplicate(organization, webhook_id, body, kept)
    try:
        payload = parse_json(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        _log(organization, webhook_id, body, kept, WebhookDelivery.Outcome.REJECTED, f"malformed JSON: {exc}")
        return IntakeResult(400, {"type": "validation_error",
                                  "errors": [{"code": "parse_error", "detail": f"Malformed JSON: {exc}",
                                              "attr": None}]})
    try:
        event = validate_event(payload)
    except serializers.ValidationError as exc:
        body_out = error_body(exc, 400)
        reason = "; ".join(f"{e['attr']}: {e['detail']}" for e in body_out["errors"])
        event_type = payload.get("type") if isinstance(payload.get("type"), str) else ""
        _log(organization, webhook_id, body, kept, WebhookDelivery.Outcome.REJECTED, reason, event_type[:64])
        return IntakeResult(400, body_out)
    try:
        with transaction.atomic():
            # Inserted first: a concurrent copy of this delivery blocks on the unique index here
            # and fails once this one commits, before it touches the mirror.
            delivery = _log(organization, webhook_id, body, kept, WebhookDelivery.Outcome.ACCEPTED,
                            event_type=event["type"])
            decisions = event_apply(organization=organization, event_type=event["type"], data=event["data"],
                                    raw=payload)
            if decisions:
                delivery.decisions = decisions
                delivery.save(update_fields=["decisions"])
    except IntegrityError:
        if not accepted.exists():
            raise
        return _duplicate(organization, webhook_id, body, kept)
    return IntakeResult(202, {"status": "accepted"}, delivery)
