"""Typed connection settings: one frozen dataclass per vendor (`connectors/<key>/settings.py`,
named by the registry's `settings_class`), the common keys on `VendorSettings`.

One declaration serves four readers: connectors read attributes (`BusinessCentralSettings.of(conn)
.journal_code`, defaults included); the API validates `settings` with the dataclass's DRF
serializer and answers 400 naming `settings.<key>`; drf-spectacular documents that serializer;
the admin builds form fields from it (`admin_forms.py`). `check()` may learn more keys (a journal
id, a base currency): they are fields too, so they are read the same way and can be set by hand.
"""

import copy
import json
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self, cast

from rest_framework import serializers
from rest_framework_dataclasses.serializers import DataclassSerializer

from .errors import Permanent
from .registry import vendor


def setting(default: Any, help_text: str, **kwargs: Any) -> Any:
    """A settings field: its default (a list or dict is copied per instance), the help text the
    API schema and the admin show, and any DRF field option (`min_value`, `max_length`, …)."""
    options = {"help_text": help_text, "required": False, **({"allow_blank": True} if isinstance(default, str) else {}),
               **kwargs}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata={"serializer_kwargs": options})
    return field(default=default, metadata={"serializer_kwargs": options})


def iso_date(value: str) -> None:
    """A date setting kept as text: blank, or an ISO date."""
    from .periods import closed_through
    try:
        closed_through(value)
    except ValueError as exc:
        raise serializers.ValidationError(f"{value!r} is not a date (YYYY-MM-DD)") from exc


@dataclass(frozen=True)
class VendorSettings:
    """What every connection may carry, whatever its vendor."""

    # API host → the origin that serves the vendor's OAuth endpoints, where they differ.
    oauth_hosts: ClassVar[dict[str, str]] = {}
    # Settings naming the company/tenant at the vendor: two connections with the same value of one
    # of them book into the same books (the admin's setup warns).
    company_keys: ClassVar[tuple[str, ...]] = ()

    # Absent or 0: the stack's default (http.READ_TIMEOUT, http.DEFAULT_RATE_PER_SECOND or the vendor's).
    read_timeout: float | None = setting(None, "Seconds to wait for the vendor's answer (default 60).",
                                         min_value=0, max_value=600)
    rate_limit_per_second: int | None = setting(None, "Requests per second all workers together may send "
                                                      "(default 8, or the vendor's own).", min_value=0)
    base_currency_amounts: bool = setting(False, "The ledger books only in its base currency: send base "
                                                 "currency amounts.")
    oauth_authorize_url: str = setting("", "OAuth authorization endpoint, when not the vendor's own.")
    oauth_token_url: str = setting("", "OAuth token endpoint, when not the vendor's own.")
    oauth_revoke_url: str = setting("", "OAuth revocation endpoint, when not the vendor's own.")
    oauth_scope: str = setting("", "OAuth scopes to ask for, when not the vendor's default.")
    # Written by the setup services (catalog fetch, configure): kept here so they read typed too.
    expense_accounts: list[dict[str, Any]] = setting([], "Expense accounts ({id, code, name}) found by the last "
                                                           "catalog fetch.")
    catalog_fetched_at: str = setting("", "When the account catalog was last fetched (ISO time).")
    funding_bank_gl_account: str = setting("", "The funding bank's general-ledger account (set by configure).")
    configured_at: str = setting("", "When the accounts were last configured (ISO time).")
    accounts: dict[str, Any] = setting({}, "The configured accounts by purpose (set by configure).")
    required_dimensions: dict[str, list[str]] = setting(
        {}, "Dimensions the ledger requires on an expense line (its mandatory-field rules), by account id, "
            "account class (EXPENSE …) or * for every account: pre-flight holds an entry without them.")
    vendor_closed_through: str = setting(
        "", "The ledger's lock date (YYYY-MM-DD): every day up to it is closed in the vendor. Only Business "
            "Central publishes its lock through the API; for the others state it here, and pre-flight holds a "
            "document dated in the locked range before anything is sent. Blank: learned from the vendor's "
            "first refusal.", validators=[iso_date])

    @classmethod
    def of(cls, connection: Any) -> Self:
        """The connection's settings, typed. Read on `VendorSettings` itself, the vendor's own class
        is used (its defaults apply). A stored value of the wrong type is a Permanent
        `invalid_setting` naming `settings.<key>`: fix it in the admin or through the API."""
        target = vendor_settings_class(connection.system) if cls is VendorSettings else cls
        raw = connection.settings if isinstance(connection.settings, dict) else {}
        memo = connection.__dict__.setdefault("_typed_settings", {})
        if target in memo and memo[target][0] == raw:
            return cast(Self, memo[target][1])
        value, errors = _parsed(target, raw)
        if errors:
            key, message = next(iter(errors.items()))
            raise Permanent(f"the connection's setting {key}: {message}", code="invalid_setting",
                            field=f"settings.{key}")
        memo[target] = (copy.deepcopy(raw), value)
        return cast(Self, value)


def vendor_settings_class(system: str) -> type[VendorSettings]:
    try:
        return vendor(system).settings_type()
    except LookupError:               # a test's fake connector: the common keys only
        return VendorSettings


_serializers: dict[type[VendorSettings], type[DataclassSerializer[Any]]] = {}


def serializer_class(settings_class: type[VendorSettings]) -> type[DataclassSerializer[Any]]:
    """The settings class's DRF serializer (made once per class)."""
    if settings_class not in _serializers:
        meta = type("Meta", (), {"dataclass": settings_class})
        _serializers[settings_class] = type(f"{settings_class.__name__}Serializer", (DataclassSerializer,),
                                            {"Meta": meta, "__doc__": settings_class.__doc__})
    return _serializers[settings_class]


# Parsed settings by (class, canonical JSON of the stored dict): the worker reloads its connection
# per record, and DRF validation was a tenth of a record's CPU. Each caller gets its own copy.
_parsed_cache: dict[tuple[type[VendorSettings], str], tuple[Any, dict[str, str]]] = {}
_PARSED_CACHE_SIZE = 256


def _parsed(settings_class: type[VendorSettings], raw: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    try:
        key = (settings_class, json.dumps(raw, sort_keys=True))
    except (TypeError, ValueError):  # not JSON (a test's odd value): parse it every time
        return _parse(settings_class, raw)
    if key not in _parsed_cache:
        if len(_parsed_cache) >= _PARSED_CACHE_SIZE:
            _parsed_cache.pop(next(iter(_parsed_cache)))
        _parsed_cache[key] = _parse(settings_class, raw)
    return copy.deepcopy(_parsed_cache[key])


def _parse(settings_class: type[VendorSettings], raw: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    known = {f.name for f in fields(settings_class)}
    serializer = serializer_class(settings_class)(data={k: v for k, v in raw.items() if k in known})
    if serializer.is_valid():
        return serializer.validated_data, {}
    return None, {key: " ".join(str(m) for m in _flat(msgs)) for key, msgs in serializer.errors.items()}


def _flat(messages: Any) -> list[Any]:
    if isinstance(messages, dict):
        return [f"{k}: {m}" for k, v in messages.items() for m in _flat(v)]
    return list(messages) if isinstance(messages, list) else [messages]


def settings_errors(system: str, incoming: dict[str, Any], *, unknown: bool = True) -> dict[str, str]:
    """What is wrong with settings a person or an integrator sends, by key: wrong types, and (unless
    `unknown=False`, for settings already stored) keys the system's class does not have."""
    settings_class = vendor_settings_class(system)
    known = {f.name for f in fields(settings_class)}
    errors = {key: f"not a setting of {system}; known: {', '.join(sorted(known))}"
              for key in incoming if key not in known and unknown}
    return errors | _parse(settings_class, incoming)[1]


def settings_validate(system: str, incoming: dict[str, Any], *,
                      stored: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stored settings with `incoming` merged in, each incoming value in its canonical JSON form
    (keys already stored and not sent are kept as they are). Raises serializers.ValidationError
    keyed by setting name."""
    if errors := settings_errors(system, incoming):
        raise serializers.ValidationError(errors)
    settings_class = vendor_settings_class(system)
    value, _ = _parse(settings_class, incoming)
    canonical = serializer_class(settings_class)(value).data
    return {**(stored or {}), **{key: canonical[key] for key in incoming}}

