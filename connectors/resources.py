"""CSV/XLSX export of the vendor call log from its admin list (django-import-export).

Without request or response bodies: they are redacted already, but an export leaves the product."""

from expensico_sync.core.spreadsheet import SafeModelResource

from .models import CallLog


class CallLogResource(SafeModelResource):
    class Meta:
        model = CallLog
        fields = ("id", "connection", "created_at", "method", "path", "status", "duration_ms", "request_id",
                  "idempotency_key", "error_class", "error_detail", "attempt")
