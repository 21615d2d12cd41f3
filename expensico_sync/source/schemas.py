"""The Expensico contract (../shared/expensico-api.md) as DRF serializers.

Used for webhook bodies and for pull API objects alike, so both paths validate the same way and
hand the mirror the same typed dicts (Decimal, date, datetime). Errors name the field through
the project error format, e.g. attr "data.report.expenses.0.amount".
"""

import json
import re
from decimal import Decimal

import moneyed
from rest_framework import serializers

EVENT_TYPES = ["expense_report.approved", "expense.cancelled", "card.funded", "card.unloaded",
               "reimbursement.paid", "bank_statement.published"]
DIMENSION_KEYS = ["cost_center", "project", "department", "client_code", "region"]
VERSION_MAX = 2**31 - 1  # the mirror's PositiveIntegerField


SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


class JSONNumber(Decimal):
    """A number as it came off the wire: exact, and still known to have been a JSON number, which
    the contract does not allow for money (decimal strings only)."""


def parse_json(raw: bytes | str):
    """JSON with numbers as Decimal: a money value never passes through float.

    Lone surrogates (PostgreSQL refuses them) are rejected for the whole body, including free-form
    `details` that no serializer field looks into. Strict UTF-8 decoding rules out encoded
    surrogates; escaped ones are searched for only when the text contains any.
    """
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    value = json.loads(text, parse_float=JSONNumber)
    if SURROGATE_ESCAPE.search(text) and any(LONE_SURROGATE.search(s) for s in _strings(value)):
        raise ValueError("lone surrogate in a string")
    return value


INT64 = range(-(2**63), 2**63)


def _leaves(value, path: str):
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            yield name.replace("\x00", "\\u0000"), key
            yield from _leaves(item, name)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}.{i}" if path else str(i))
    else:
        yield path, value


def _refused(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    return isinstance(value, int) and not isinstance(value, bool) and value not in INT64


def _any_refused(value) -> bool:
    """The quick pass (no paths built): True if values_check has something to name."""
    if isinstance(value, dict):
        return any(_refused(k) or _any_refused(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_any_refused(v) for v in value)
    return _refused(value)


def values_check(payload) -> None:
    """Refuses what no column can hold, anywhere in the body (free-form `details` and
    `custom_fields` too): NUL characters (PostgreSQL text and jsonb refuse them) and integers
    beyond 64 bits. Raises ValidationError naming each field."""
    if not _any_refused(payload):
        return
    errors = {}
    for path, value in _leaves(payload, ""):
        if isinstance(value, str) and "\x00" in value:
            errors[path] = ["NUL characters are not allowed."]
        elif isinstance(value, int) and not isinstance(value, bool) and value not in INT64:
            errors[path] = ["Integer outside the 64-bit range."]
    if errors:
        raise serializers.ValidationError(errors, code="invalid")


def minor_exponent(currency: str) -> int:
    return len(str(moneyed.get_currency(currency).sub_unit)) - 1


def fits_minor_unit(value: Decimal, exponent: int) -> bool:
    return value == value.quantize(Decimal(1).scaleb(-exponent))


class CurrencyField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(min_length=3, max_length=3, **kwargs)

    def to_internal_value(self, data):
        code = super().to_internal_value(data).upper()
        try:
            moneyed.get_currency(code)
        except moneyed.CurrencyDoesNotExist:
            raise serializers.ValidationError(f"Unknown ISO-4217 currency {code!r}.", code="invalid") from None
        return code


class DecimalStringField(serializers.DecimalField):
    """A decimal string ("15.00"). A JSON number is refused (the contract says strings), while our
    own callers may still hand in a Decimal."""

    def to_internal_value(self, data):
        if isinstance(data, bool | int | float | JSONNumber):
            raise serializers.ValidationError("Must be a decimal string, not a JSON number.", code="invalid")
        return super().to_internal_value(data)


class MoneyField(DecimalStringField):
    """A decimal string ("115.000")."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=18, decimal_places=3, **kwargs)


def check_minor_unit(attrs: dict, amount_fields=("amount",)):
    """Amounts carry at most the currency's minor-unit decimals (KWD 3, JPY 0)."""
    exponent = minor_exponent(attrs["currency"])
    errors = {}
    for name in amount_fields:
        value = attrs.get(name)
        # By value, not by spelling: "115.000" SAR is 115.00, but "115.005" SAR is not a SAR amount.
        if value is not None and not fits_minor_unit(value, exponent):
            errors[name] = [f"{attrs['currency']} amounts have at most {exponent} decimals."]
    if errors:
        raise serializers.ValidationError(errors, code="invalid")
    return attrs


class Ref(serializers.Serializer):
    id = serializers.CharField(max_length=64)


class PersonRef(Ref):
    name = serializers.CharField(max_length=200)


class EmployeeRef(PersonRef):
    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True)


class CategoryRef(Ref):
    code = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    active = serializers.BooleanField(required=False)  # only the pull API sends it; absent = unchanged


class CardRef(Ref):
    last4 = serializers.RegexField(r"^\d{4}$")


class TaxSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32, allow_blank=True)
    rate = DecimalStringField(max_digits=9, decimal_places=4)
    amount = MoneyField()
    inclusive = serializers.BooleanField()


class ReceiptSerializer(Ref):
    filename = serializers.CharField(max_length=255)
    content_type = serializers.CharField(max_length=100)
    size = serializers.IntegerField(min_value=0, max_value=2**63 - 1)
    sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$")
    url = serializers.URLField(max_length=1000)


class ExpenseSerializer(Ref):
    version = serializers.IntegerField(min_value=1, max_value=VERSION_MAX)
    type = serializers.ChoiceField(["expense", "mileage", "per_diem", "driver_honorarium"])
    date = serializers.DateField()
    merchant = serializers.CharField(max_length=300, allow_null=True, allow_blank=True, required=False)
    description = serializers.CharField(allow_blank=True)
    description_ar = serializers.CharField(allow_null=True, allow_blank=True, required=False)
    category = CategoryRef()
    funding_source = serializers.ChoiceField(["reimbursable", "card"])
    card = CardRef(allow_null=True, required=False)
    amount = MoneyField()
    currency = CurrencyField()
    exchange_rate = DecimalStringField(max_digits=18, decimal_places=8, allow_null=True, required=False)
    tax = TaxSerializer(allow_null=True, required=False)
    dimensions = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    details = serializers.DictField(required=False)
    receipts = ReceiptSerializer(many=True, required=False)
    custom_fields = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)

    def validate(self, attrs):
        if attrs["funding_source"] == "card" and not attrs.get("card"):
            raise serializers.ValidationError({"card": ["Required when funding_source is card."]}, code="required")
        check_minor_unit(attrs)
        tax = attrs.get("tax")
        if tax is not None and not fits_minor_unit(tax["amount"], minor_exponent(attrs["currency"])):
            raise serializers.ValidationError({"tax": {"amount": ["More decimals than the currency allows."]}})
        unknown = set(attrs.get("dimensions", {})) - set(DIMENSION_KEYS)
        if unknown:
            raise serializers.ValidationError({"dimensions": [f"Unknown keys: {', '.join(sorted(unknown))}."]})
        return attrs


class ReportSerializer(Ref):
    number = serializers.CharField(max_length=64)
    title = serializers.CharField(max_length=300, allow_blank=True)
    employee = EmployeeRef()
    approved_at = serializers.DateTimeField()
    approved_by = PersonRef()
    currency = CurrencyField()
    expenses = ExpenseSerializer(many=True, allow_empty=False)
    status = serializers.CharField(required=False)  # present in pull API objects

    def validate_expenses(self, expenses):
        ids = [e["id"] for e in expenses]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError("An expense id appears more than once in this report.")
        return expenses


class ReportApprovedData(serializers.Serializer):
    report = ReportSerializer()


class ExpenseCancelledData(serializers.Serializer):
    expense_id = serializers.CharField(max_length=64)
    report_id = serializers.CharField(max_length=64)
    version = serializers.IntegerField(min_value=1, max_value=VERSION_MAX)
    reason = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    cancelled_at = serializers.DateTimeField()


class FundingSerializer(Ref):
    card = CardRef()
    employee = PersonRef()
    amount = MoneyField(min_value=Decimal("0"))
    currency = CurrencyField()
    date = serializers.DateField()
    bank_reference = serializers.CharField(max_length=100, allow_blank=True, allow_null=True, required=False)
    description = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    direction = serializers.ChoiceField(["in", "out"], required=False)  # pull API only

    def validate(self, attrs):
        return check_minor_unit(attrs)


class FundingData(serializers.Serializer):
    funding = FundingSerializer()


class ReimbursementSerializer(Ref):
    employee = PersonRef()
    report_ids = serializers.ListField(child=serializers.CharField(max_length=64))
    amount = MoneyField()
    currency = CurrencyField()
    date = serializers.DateField()
    bank_reference = serializers.CharField(max_length=100, allow_blank=True, allow_null=True, required=False)
    description = serializers.CharField(allow_blank=True, allow_null=True, required=False)

    def validate(self, attrs):
        return check_minor_unit(attrs)


class ReimbursementData(serializers.Serializer):
    reimbursement = ReimbursementSerializer()


class BankAccountSerializer(Ref):
    name = serializers.CharField(max_length=200, allow_blank=True)
    currency = CurrencyField()
    iban = serializers.CharField(max_length=34, allow_blank=True, allow_null=True, required=False)


class StatementLineSerializer(Ref):
    date = serializers.DateField()
    amount = MoneyField()
    balance = MoneyField()
    description = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    reference = serializers.CharField(max_length=100, allow_blank=True, allow_null=True, required=False)
    bank_reference = serializers.CharField(max_length=100, allow_blank=True, allow_null=True, required=False)
    bank_account = BankAccountSerializer(required=False)  # pull API lines carry their account


class StatementData(serializers.Serializer):
    bank_account = BankAccountSerializer()
    lines = StatementLineSerializer(many=True)


DATA_SERIALIZERS = {
    "expense_report.approved": ReportApprovedData,
    "expense.cancelled": ExpenseCancelledData,
    "card.funded": FundingData,
    "card.unloaded": FundingData,
    "reimbursement.paid": ReimbursementData,
    "bank_statement.published": StatementData,
}


class EnvelopeSerializer(serializers.Serializer):
    type = serializers.ChoiceField(EVENT_TYPES)
    created_at = serializers.DateTimeField()
    data = serializers.DictField()

    def validate(self, attrs):
        inner = DATA_SERIALIZERS[attrs["type"]](data=attrs["data"])
        if not inner.is_valid():
            raise serializers.ValidationError({"data": inner.errors})
        attrs["data"] = inner.validated_data
        return attrs


def validate_event(payload) -> dict:
    """Returns {"type", "created_at", "data"} typed, or raises ValidationError naming the field."""
    if not isinstance(payload, dict):
        raise serializers.ValidationError({"body": ["The body must be a JSON object."]}, code="invalid")
    values_check(payload)
    envelope = EnvelopeSerializer(data=payload)
    envelope.is_valid(raise_exception=True)
    return envelope.validated_data


def validate_object(serializer_class, obj) -> dict:
    """For pull API objects: same validation as the webhook payloads."""
    s = serializer_class(data=obj)
    s.is_valid(raise_exception=True)
    return s.validated_data
