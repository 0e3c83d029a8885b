"""One DRF exception handler: domain errors and DRF's own errors leave the API in one shape."""
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import Http404
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core import bodylimit, unavailable
from apps.core.errors import DomainError, ValidationFailed, fields_invalid_message
from apps.core.parsers import MultiPartParser
from apps.core.throttling import UploadRateThrottle

_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.ParseError: "parse_error",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
    exceptions.ValidationError: "validation_failed",
}


def _flatten(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_flatten(d) for d in detail)
    if isinstance(detail, dict):
        return " ".join(f"{k}: {_flatten(v)}" for k, v in detail.items())
    return str(detail)


def exception_handler(exc, context):
    # Django's own bounds on a body (a WSGI server, or fields of a multipart upload): the API's shape,
    # not Django's 400 page.
    if isinstance(exc, RequestDataTooBig):
        exc = bodylimit.request_too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    elif isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        exc = ValidationFailed(gettext("The request has too many fields or files."), code="too_many_fields")
    if (dependency := unavailable.dependency(exc)) is not None:
        exc = unavailable.refused(exc, dependency, context.get("request"))
        set_rollback()
    if isinstance(exc, DomainError):
        response = Response({"error": exc.as_dict()}, status=exc.status)
        if getattr(exc, "retry_after", None):  # rate limited, or a part that is down
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        # DRF turns these into 403 when the first authenticator (the session) names no scheme;
        # a client without credentials must learn it needs some: 401 with the token scheme.
        exc.status_code = status.HTTP_401_UNAUTHORIZED
        exc.auth_header = getattr(exc, "auth_header", None) or "Token"
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = {"code": code, "message": fields_invalid_message(), "fields": detail}
    else:
        body = {"code": code, "message": _flatten(exc.detail), "fields": {}}
    if response.status_code == status.HTTP_401_UNAUTHORIZED and code == "forbidden":
        body["code"] = "not_authenticated"
    response.data = {"error": body}
    return response


NO_CONTENT = {204: OpenApiResponse(description="Done.")}


def body_object(request) -> Mapping:
    """The request body of a view that reads its fields itself: an object, or a 400 (a JSON list or
    number has no fields to read)."""
    data = request.data
    if not isinstance(data, Mapping):
        message = gettext("The body must be a JSON object.")
        raise ValidationFailed.field("non_field_errors", message)
    return data


def validated(serializer_class, data, *, partial: bool = False) -> dict:
    """The request data checked by a serializer; a ValidationError becomes the one error shape."""
    ser = serializer_class(data=data, partial=partial)
    ser.is_valid(raise_exception=True)
    return ser.validated_data


def validated_query(serializer_class, params) -> dict:
    """Query parameters checked by a serializer, read as values rather than as an HTML form: DRF
    takes an empty `?days=` for a missing field and applies its default, while the API documents an
    integer there, so an empty value is refused (or is null, where the field allows null)."""
    fields = serializer_class().fields
    data = {}
    for name in params:
        field, values = fields.get(name), params.getlist(name)
        if isinstance(field, serializers.ListField):
            data[name] = values
        else:
            data[name] = None if values[-1] == "" and getattr(field, "allow_null", False) else values[-1]
    return validated(serializer_class, data)


class _SizeCap(FileUploadHandler):
    """First upload handler: stops reading a multipart body once a file passes the limit (when the
    client sent no honest Content-Length), instead of spooling all of it to disk."""

    def __init__(self, limit: int, request=None):
        super().__init__(request)
        self.limit, self.received, self.exceeded = limit, 0, False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler builds the file; the count runs over the whole body


class CappedUploadView(APIView):
    """A multipart upload endpoint that refuses a body over `upload_limit()` before reading it
    (declared Content-Length) or while reading it (no honest length), with `too_large()`, and more
    uploads than the upload rate allows with 429."""

    parser_classes = [MultiPartParser]

    def get_throttles(self):
        return [*super().get_throttles(), UploadRateThrottle()]
    # The multipart envelope (boundaries, headers, other fields) on top of the file itself.
    ENVELOPE_BYTES = bodylimit.ENVELOPE_BYTES

    def upload_limit(self) -> int:
        raise NotImplementedError

    @classmethod
    def max_body_bytes(cls) -> int:
        """The body limit refuse_oversized_bodies() holds requests to, before Django reads them."""
        return cls().upload_limit() + cls.ENVELOPE_BYTES

    def too_large(self) -> DomainError:
        raise NotImplementedError

    def initial(self, request, *args, **kwargs):
        # Authentication reads the body (the CSRF check looks at POST), so the size is checked first.
        limit = self.upload_limit()
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit + self.ENVELOPE_BYTES:
            raise self.too_large()
        self.size_cap = _SizeCap(limit, request._request)
        request._request.upload_handlers = [self.size_cap, *request._request.upload_handlers]
        super().initial(request, *args, **kwargs)

    def check_cap(self) -> None:
        if self.size_cap.exceeded:
            raise self.too_large()
