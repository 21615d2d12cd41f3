"""Webhook intake (expensico-api.md §1): verify, log, mirror and announce in one transaction."""

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from math import floor

from django.conf import settings
from django.db import IntegrityError, transaction
from rest_framework import serializers
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook, WebhookVerificationError

from expensico_sync.core.api.errors import error_body
from expensico_sync.core.models import new_webhook_secret

from .mirror import event_apply
from .models import WebhookDelivery
from .schemas import parse_json, validate_event

KEPT_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "user-agent")
CHUNK_BYTES = 64 * 1024
LOGGED_BYTES = 64 * 1024  # of an oversized body, kept for support
UNKNOWN_ORG_SECRET = new_webhook_secret()


@dataclass(frozen=True)
class IntakeResult:
    status: int
    body: dict
    delivery: WebhookDelivery | None = None


def _client_error(code: str, detail: str) -> dict:
    return {"type": "client_error", "errors": [{"code": code, "detail": detail, "attr": None}]}


class _RawBodyWebhook(Webhook):
    """The library's rules (required headers, ±5 minutes, the space-separated v1 list, constant-time
    comparison) over an HMAC of the raw bytes fed in here. The library decodes the body as UTF-8
    before signing, so a signed non-UTF-8 body could never verify (a 401 where the contract wants a
    400), and it needs the whole body in memory, which an oversized one must not be."""

    def __init__(self, secret: str, prefix: bytes):
        super().__init__(secret)
        self.mac = hmac.new(self._whsecret, prefix, hashlib.sha256)

    def sign(self, msg_id, timestamp, data) -> str:
        return "v1," + base64.b64encode(self.mac.digest()).decode()


class _Signature:
    """Standard Webhooks v1 under each secret at once (rotation), fed the body in chunks."""

    def __init__(self, *, secrets: list[str], headers: Mapping[str, str]):
        self.headers = dict(headers)
        self.hooks = []
        try:
            prefix = f"{headers['webhook-id']}.{floor(float(headers['webhook-timestamp']))}.".encode()
        except (KeyError, ValueError, OverflowError):
            return  # nothing to verify against: invalid
        for secret in secrets:
            try:
                self.hooks.append(_RawBodyWebhook(secret, prefix))
            except (ValueError, EmptyWebhookSecretError):
                continue

    def update(self, chunk: bytes) -> None:
        for hook in self.hooks:
            hook.mac.update(chunk)

    def valid(self) -> bool:
        for hook in self.hooks:
            try:
                hook.verify(b"", self.headers, json_parse=False)
                return True
            except (WebhookVerificationError, ValueError):
                continue  # ValueError: malformed signature lists and bad base64
        return False


def signature_verify(*, secrets: list[str], body: bytes, headers: Mapping[str, str]) -> bool:
    signature = _Signature(secrets=secrets, headers={k.lower(): v for k, v in headers.items()})
    signature.update(body)
    return signature.valid()


def _secrets(organization) -> list[str]:
    # An unknown slug is checked against a secret nobody has, so it answers like a bad signature,
    # by the same path: the response tells nobody which organisations exist.
    return organization.webhook_secrets() if organization is not None else [UNKNOWN_ORG_SECRET]


def _text(value: str) -> str:
    return value.replace("\x00", "\ufffd")  # PostgreSQL text columns refuse NUL


def _log(organization, webhook_id: str, body: bytes, headers: dict, outcome: str, reason: str = "",
         event_type: str = "", decisions=None) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        organization=organization, webhook_id=_text(webhook_id), event_type=event_type,
        body=_text(body.decode("utf-8", errors="replace")), headers={k: _text(v) for k, v in headers.items()},
        outcome=outcome, reason=_text(reason), signature_valid=True, decisions=decisions or [])


def _body_error(code: str, detail: str) -> dict:
    return {"type": "validation_error", "errors": [{"code": code, "detail": detail, "attr": "body"}]}


def _duplicate(organization, webhook_id, body, headers) -> IntakeResult:
    _log(organization, webhook_id, body, headers, WebhookDelivery.Outcome.DUPLICATE, "webhook-id already accepted")
    return IntakeResult(200, {"status": "duplicate"})


def _unsigned() -> IntakeResult:
    return IntakeResult(401, _client_error("invalid_signature",
                                           "Missing or invalid signature, or timestamp outside ±5 minutes."))


def webhook_receive_stream(*, organization, stream, headers: Mapping[str, str]) -> IntakeResult:
    """The view's entry. Holds at most DATA_UPLOAD_MAX_MEMORY_SIZE of the body in memory; a larger
    body is still read to its end for the signature (in constant memory), then refused as too
    large and, when signed, logged with its first LOGGED_BYTES."""
    lowered = {k.lower(): v for k, v in headers.items()}
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    signature = _Signature(secrets=_secrets(organization), headers=lowered)
    kept, size = bytearray(), 0
    for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
        signature.update(chunk)
        size += len(chunk)
        if limit is None or len(kept) <= limit:
            kept += chunk
    if limit is None or size <= limit:
        # The HMAC was fed while reading: the signature is checked once, not again over the body.
        return webhook_receive(organization=organization, body=bytes(kept), headers=lowered,
                               signed=signature.valid())
    if organization is None or not signature.valid():
        return _unsigned()
    detail = f"The body is {size} bytes; at most {limit} are accepted."
    webhook_id = lowered["webhook-id"][:WebhookDelivery._meta.get_field("webhook_id").max_length]
    _log(organization, webhook_id, bytes(kept[:LOGGED_BYTES]), {k: lowered[k] for k in KEPT_HEADERS if k in lowered},
         WebhookDelivery.Outcome.REJECTED, f"body: {detail} Logged truncated to {LOGGED_BYTES} bytes.")
    return IntakeResult(400, _body_error("too_large", detail))


def webhook_receive(*, organization, body: bytes, headers: Mapping[str, str], signed: bool | None = None) -> IntakeResult:
    """`signed`: the caller already checked this body's signature (None: check it here)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if signed is None:
        signed = signature_verify(secrets=_secrets(organization), body=body, headers=lowered)
    if not signed or organization is None:
        return _unsigned()
    webhook_id = lowered["webhook-id"]
    if len(webhook_id) > WebhookDelivery._meta.get_field("webhook_id").max_length or "\x00" in webhook_id:
        return IntakeResult(400, {"type": "validation_error", "errors": [
            {"code": "invalid", "detail": "webhook-id is longer than 200 characters or holds a NUL.",
             "attr": "webhook-id"}]})
    kept = {k: lowered[k] for k in KEPT_HEADERS if k in lowered}
    accepted = WebhookDelivery.objects.filter(organization=organization, webhook_id=webhook_id,
                                              outcome=WebhookDelivery.Outcome.ACCEPTED)
    if accepted.exists():
        return _duplicate(organization, webhook_id, body, kept)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        _log(organization, webhook_id, body, kept, WebhookDelivery.Outcome.REJECTED, f"body: not UTF-8 ({exc})")
        return IntakeResult(400, _body_error("invalid_encoding", f"The body is not UTF-8: {exc}"))
    try:
        payload = parse_json(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        _log(organization, webhook_id, body, kept, WebhookDelivery.Outcome.REJECTED, f"malformed JSON: {exc}")
        return IntakeResult(400, _body_error("parse_error", f"Malformed JSON: {exc}"))
    try:
        event = validate_event(payload)
    except serializers.ValidationError as exc:
        body_out = error_body(exc, 400)
        reason = "; ".join(f"{e['attr']}: {e['detail']}" for e in body_out["errors"])
        event_type = payload.get("type") if isinstance(payload, dict) and isinstance(payload.get("type"), str) else ""
        _log(organization, webhook_id, body, kept, WebhookDelivery.Outcome.REJECTED, reason, _text(event_type[:64]))
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
