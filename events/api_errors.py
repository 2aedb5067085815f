"""How errors leave the API: one shape, {"error": {code, message, details}}, and its OpenAPI examples.

The DRF exception handler (settings' REST_FRAMEWORK["EXCEPTION_HANDLER"]) and the examples every
app's API documents its errors with. In events, the lowest app, so each app's API can use it
without importing config, which sits on top of them all.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from events.errors import DomainError

_DRF_CODES = {
    exceptions.ParseError: "malformed_json",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid",
}


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_body(), status=exc.http_status)
    if isinstance(exc, RequestDataTooBig):
        # DRF reads JSON bodies through HttpRequest.body, which enforces DATA_UPLOAD_MAX_MEMORY_SIZE.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = error_body("payload_too_large", f"The request body is larger than {limit} bytes.", {"limit": limit})
        return Response(body, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    # A subclass may name its own stable code (e.g. gates.authentication.AuthenticationSchemeError).
    code = getattr(exc, "error_code", None) or next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        message = "Invalid input: " + ", ".join(sorted(str(k) for k in details)) if details else "Invalid input."
        response.data = error_body(code, message, details)
    else:
        response.data = error_body(code, str(getattr(exc, "detail", exc)))
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = "Api-Key"
    return response


# --- documenting errors in the OpenAPI schema ----------------------------------------------


def error_example(code: str, message: str, details: dict | None = None) -> OpenApiExample:
    """One error body as the API answers it, named after its code."""
    return OpenApiExample(code, summary=code, value=error_body(code, message, details), response_only=True)


def error_response(lead: str, *examples: OpenApiExample, schema=OpenApiTypes.OBJECT) -> OpenApiResponse:
    """A documented error status: what it means, then each code it may carry with its message."""
    lines = [f"- `{e.name}`: {e.value['error']['message']}" for e in examples]
    return OpenApiResponse(schema, description=lead + "\n\nCodes:\n" + "\n".join(lines), examples=list(examples))


INVALID = error_example(
    "invalid", "Invalid input: gateId", {"gateId": ["This field is required."]}
)  # details: the field names, each with its messages
MALFORMED_JSON = error_example("malformed_json", "JSON parse error - Expecting value: line 1 column 1 (char 0)")
PAYLOAD_TOO_LARGE = error_example("payload_too_large", "The request body is larger than 1048576 bytes.", {"limit": 1048576})
UNSUPPORTED_MEDIA_TYPE = error_example("unsupported_media_type", 'Unsupported media type "text/plain" in request.')
NOT_FOUND = error_example("not_found", "No such event.")
