"""The OpenAPI schema documents the error answers too, in the one error format (errors.py).

Clients (and Schemathesis) read the schema to learn what a call may answer; without this every
400, 401, 403, 404 and 429 the API really sends would be undocumented. Which ones an operation
gets follows from how it is built, so a new endpoint is documented the moment it is registered;
endpoint-specific errors (409, 502) are declared with `extend_schema` next to the view.
"""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from .errors import ERROR_TYPES


class ErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)
    attr = serializers.CharField(allow_null=True, help_text="The field at fault (dotted path), or null")


class ErrorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ERROR_TYPES)
    errors = ErrorItemSerializer(many=True)


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for status, description in self._error_statuses(operation):
            if status not in responses:
                responses[status] = self._get_response_for_code(error_response(description), status)
        return operation

    def _error_statuses(self, operation):
        params = operation.get("parameters", [])
        if self.method != "GET" or params:
            yield "400", "The request is invalid; `attr` names the field"
        if self.view.get_authenticators():
            yield "401", "No credentials, or an invalid, revoked or expired API key"
            yield "403", "The caller's role may not do this"
        if any(p["in"] == "path" for p in params) or self._get_paginator() and self._is_list_view():
            yield "404", "No such object in the caller's organisations (or an invalid cursor)"
        if "requestBody" in operation:
            yield "415", "The body's content type is not one the operation accepts"
        if self.view.get_throttles():
            yield "429", "Too many requests; retry after the `Retry-After` seconds"
