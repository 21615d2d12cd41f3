"""One error format for the whole API:

    {"type": "validation_error" | "client_error" | "server_error" | "vendor_error",
     "errors": [{"code": "...", "detail": "...", "attr": "field.path" | null}]}

An exception may name its own type with an `error_type` attribute: "vendor_error" says the
accounting system, not the caller or this service, is what failed.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

ERROR_TYPES = ("validation_error", "client_error", "server_error", "vendor_error")


def _flatten(detail, codes, attr=None):
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "__all__") else key
            path = name if attr is None else (attr if name is None else f"{attr}.{name}")
            yield from _flatten(value, codes.get(key) if isinstance(codes, dict) else codes, path)
    elif isinstance(detail, list):
        for i, item in enumerate(detail):
            code = codes[i] if isinstance(codes, list) and i < len(codes) else codes
            if isinstance(item, dict | list):
                yield from _flatten(item, code, f"{attr}.{i}" if attr is not None else str(i))
            else:
                yield {"code": str(code), "detail": str(item), "attr": attr}
    else:
        yield {"code": str(codes), "detail": str(detail), "attr": attr}


def error_body(exc: exceptions.APIException, status_code: int) -> dict:
    if getattr(exc, "error_type", None) in ERROR_TYPES:
        kind = exc.error_type
    elif isinstance(exc, exceptions.ValidationError):
        kind = "validation_error"
    elif status_code >= 500:
        kind = "server_error"
    else:
        kind = "client_error"
    return {"type": kind, "errors": list(_flatten(exc.detail, exc.get_codes()))}


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Http404):  # DRF's handler translated these; mirror it to read the detail
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response.data = error_body(exc, response.status_code)
    return response


def not_found(request, exception=None):
    """Django's 404 page for a URL no route matches (`/api/v1/records/0.5/`), in the API's format
    under /api/: a client parses one content type, whatever it sent."""
    if request.path.startswith("/api/"):
        return JsonResponse({"type": "client_error", "errors": [
            {"code": "not_found", "detail": "No such endpoint or object.", "attr": None}]}, status=404)
    return defaults.page_not_found(request, exception)
