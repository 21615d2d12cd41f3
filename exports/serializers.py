"""API shapes. Read serializers never expose secrets (records hold none); writes are tiny
request bodies handed to one service each."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from connectors.models import Connection
from expensico_sync.core.api.authentication import principal_of
from expensico_sync.core.selectors import organizations_with_capability

from .models import ExportAttempt, ExportRecord, ReviewItem, SyncRun
from .reversal_link import reversal_link
from .services.actions import CALLBACK_TARGETS


class ExportAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExportAttempt
        fields = ["number", "started_at", "finished_at", "outcome", "error_class", "error_code", "error_message",
                  "request_id", "external_id", "warnings", "notes", "duration_ms"]


def message_code(stored: dict) -> str:
    return str((stored or {}).get("code", ""))


class ExportRecordSerializer(serializers.ModelSerializer):
    # Bank-side records (fundings, statement lines) have no employee.
    employee: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="expensico_id", read_only=True, allow_null=True)
    last_error_code = serializers.SerializerMethodField(
        help_text="The code of last_error when the text is ours (exports/messages.py); '' for the vendor's words")

    class Meta:
        model = ExportRecord
        fields = ["id", "organization", "connection", "kind", "source_id", "source_version", "reference",
                  "status", "wait_reason", "attempts", "next_attempt_at", "external_id", "vendor_document_number",
                  "employee",
                  "document_date", "reverses", "sync_run", "mapping_version", "last_error", "last_error_code", "warnings",
                  "created_at", "updated_at", "exported_at"]
        read_only_fields = fields

    def get_last_error_code(self, obj) -> str:
        return message_code(obj.last_error_message)


class ExportRecordDetailSerializer(ExportRecordSerializer):
    export_attempts = ExportAttemptSerializer(many=True, read_only=True)
    reversal_link = serializers.SerializerMethodField(
        help_text="The vendor's link between this document and its reversal (either side); '' when none")

    class Meta(ExportRecordSerializer.Meta):
        fields = [*ExportRecordSerializer.Meta.fields, "idempotency_key", "entry_preview", "payload_preview",
                  "export_attempts", "reversal_link"]
        read_only_fields = fields

    def get_reversal_link(self, obj) -> str:
        return reversal_link(obj)


@extend_schema_field(OpenApiTypes.INT)
class ScopedConnectionField(serializers.PrimaryKeyRelatedField):
    """Only connections of organisations where the caller may run exports."""

    def get_queryset(self):
        principal = principal_of(self.context["request"])
        return Connection.objects.filter(organization__in=organizations_with_capability(principal, "exports.run"))


class ExportRequestSerializer(serializers.Serializer):
    expense_id = serializers.CharField(help_text="Expensico expense id (or our numeric id)")
    connection = ScopedConnectionField(help_text="Target connection id")


class BatchRequestSerializer(serializers.Serializer):
    expense_ids = serializers.ListField(child=serializers.CharField(), min_length=1, max_length=500)
    connection = ScopedConnectionField(help_text="Target connection id")


class BatchItemErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


class BatchItemSerializer(serializers.Serializer):
    expense_id = serializers.CharField()
    ok = serializers.BooleanField()
    record_id = serializers.IntegerField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    error = BatchItemErrorSerializer(allow_null=True)


class BatchResponseSerializer(serializers.Serializer):
    results = BatchItemSerializer(many=True)


class CallbackSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[(s.value, s.label) for s in CALLBACK_TARGETS])
    external_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    detail = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class SyncRunSerializer(serializers.ModelSerializer):
    connection = ScopedConnectionField()
    progress = serializers.IntegerField(read_only=True, help_text="Percent of found documents settled")

    class Meta:
        model = SyncRun
        fields = ["id", "organization", "connection", "pull_sync", "date_from", "date_to", "status", "progress",
                  "found", "already_there", "exported", "held", "failed", "error", "created_at", "started_at",
                  "finished_at"]
        read_only_fields = ["id", "organization", "pull_sync", "status", "progress", "found", "already_there",
                            "exported", "held", "failed", "error", "created_at", "started_at", "finished_at"]

    def validate(self, attrs):
        if attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": "must not be before date_from"}, code="invalid_range")
        return attrs


class ReviewItemSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="record.reference", read_only=True)
    record_status = serializers.CharField(source="record.status", read_only=True)
    overdue = serializers.BooleanField(read_only=True)
    owner: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    # Blank until the item is resolved.
    resolution = serializers.ChoiceField(choices=ReviewItem.Resolution.choices, allow_blank=True, read_only=True)
    detail_code = serializers.SerializerMethodField(
        help_text="The code of detail when the text is ours (exports/messages.py); '' for the vendor's words")

    class Meta:
        model = ReviewItem
        fields = ["id", "organization", "record", "reference", "record_status", "reason", "severity", "detail",
                  "detail_code", "context", "owner", "sla_due_at", "overdue", "resolution", "resolution_note",
                  "manual_external_reference", "resolved_by_label", "resolved_at", "created_at"]
        read_only_fields = fields

    def get_detail_code(self, obj) -> str:
        return message_code(obj.detail_message)


class AssignSerializer(serializers.Serializer):
    owner = serializers.CharField(allow_null=True, help_text="Username of a member of the item's organisation; "
                                                               "null unassigns")


class ResolveSerializer(serializers.Serializer):
    # A hold is released through /release (role and two-person checks), never by naming it here.
    resolution = serializers.ChoiceField(choices=[c for c in ReviewItem.Resolution.choices
                                                  if c[0] != ReviewItem.Resolution.RELEASED])
    note = serializers.CharField(required=False, allow_blank=True, default="")
    external_reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


@extend_schema_field(OpenApiTypes.INT)
class ScopedRunOrganizationField(serializers.PrimaryKeyRelatedField):
    """Only organisations where the caller may run exports."""

    def get_queryset(self):
        return organizations_with_capability(principal_of(self.context["request"]), "exports.run")


class RetryFailedRequestSerializer(serializers.Serializer):
    organization = ScopedRunOrganizationField(help_text="The organisation whose failed exports are sent again")


class RetryFailedResponseSerializer(serializers.Serializer):
    organization = serializers.IntegerField()
    retried = serializers.IntegerField(help_text="Records queued to be sent again now")


class PreviewSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="False when the record cannot be mapped yet (see reason, detail)")
    mapping_version = serializers.CharField()
    reason = serializers.CharField(help_text="Why there is no entry (a review reason), else empty")
    detail = serializers.CharField()
    entry = serializers.JSONField(allow_null=True, help_text="The AccountingEntry as built")
    payload = serializers.JSONField(allow_null=True, help_text="The exact vendor payload push would send")


class ReleaseSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class HoldReleaseSerializer(serializers.Serializer):
    step = serializers.IntegerField(help_text="1: first approval; 2: the second, different approver")
    released = serializers.BooleanField(help_text="This approval released the hold: the record goes out")
    approver_label = serializers.CharField()
    role = serializers.CharField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=3, allow_null=True)
    created_at = serializers.DateTimeField()
    item = ReviewItemSerializer(source="review_item")


class SuggestionAnswerSerializer(serializers.Serializer):
    account = serializers.CharField(required=False, allow_blank=True, default="", max_length=200,
                                    help_text="Blank: accept the suggested account; else the correct account id")
    account_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    dimensions = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=200), required=False, default=dict,
        help_text="Per proposed dimension key: the value to keep instead of the model's (blank: leave it "
                  "blank); keys not given accept the model's value")


class RuleEffectRowSerializer(serializers.Serializer):
    record_id = serializers.IntegerField()
    source_id = serializers.CharField()
    status = serializers.CharField()
    date = serializers.DateField()
    merchant = serializers.CharField(allow_blank=True)
    amount = serializers.DecimalField(max_digits=20, decimal_places=3)
    currency = serializers.CharField()
    before = serializers.CharField()
    after = serializers.CharField()


class RuleEffectSerializer(serializers.Serializer):
    past = RuleEffectRowSerializer(many=True, help_text="Booked expenses it would have coded differently (shown only)")
    pending = RuleEffectRowSerializer(many=True, help_text="Expenses not yet exported that applying re-codes")
    pending_count = serializers.IntegerField(help_text="Pending expenses it re-codes, among the pending_examined newest")
    pending_amounts = serializers.DictField(child=serializers.DecimalField(max_digits=20, decimal_places=3))
    pending_candidates = serializers.IntegerField(help_text="Pending expenses the rule could match (by category and "
                                                            "currency); applying decides every one")
    pending_examined = serializers.IntegerField(help_text="How many of the newest candidates this answer decided")
    past_note = serializers.CharField(help_text="How many booked expenses were examined (the latest only)")


class RuleApplySerializer(serializers.Serializer):
    confirm_count = serializers.IntegerField(
        min_value=0, help_text="The pending_count you were shown: if it changed since, nothing is applied (409)")


class RuleApplyResultSerializer(serializers.Serializer):
    records = serializers.IntegerField(help_text="Pending expenses re-coded (queued: that the rule changes, being "
                                                 "re-coded in the background)")
    queued = serializers.BooleanField(help_text="Many pending expenses: re-coded by a background task, in batches")
    amounts = serializers.DictField(child=serializers.DecimalField(max_digits=20, decimal_places=3))


class TestableRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    connection = serializers.IntegerField(source="connection_id")
    position = serializers.IntegerField()
    active = serializers.BooleanField()
