"""The OpenAPI schema's view of errors: every operation documents the error answers it can give, in
the one error shape, so a client generated from the schema can read them. And the gateway's events:
the schema documents each event's `d` too (`gateway_events`), so REST and the socket are described
in one place."""
from importlib import import_module

from django.apps import apps as django_apps
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import build_mocked_view, force_instance
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from apps.core.api import CappedUploadView
from apps.core.fields import StrictCharField

ERROR_DESCRIPTIONS = {
    400: "Invalid input: `validation_failed` names the fields in `fields`; `parse_error` is a body that "
         "is not JSON.",
    401: "No valid credentials (`not_authenticated`): send a session cookie or `Authorization: Token <secret>`; "
         "an unknown, expired or revoked token is `authentication_failed`.",
    403: "Not allowed: `missing_permission` names the permission in `permission`; `missing_scope` names in "
         "`scope` what an API token lacks (`read` for GET, `write` for other methods); `forbidden` otherwise "
         "(also a session request without its CSRF token).",
    404: "Not found, or not visible to you (`not_found` and more precise codes such as `unknown_invite`).",
    409: "The request conflicts with the current state (`conflict` and more precise codes).",
    413: "The upload is too large (`file_too_large`).",
    415: "The body is not of a media type the operation takes (`unsupported_media_type`): JSON, or "
         "multipart/form-data for uploads.",
    429: "Too many requests (`rate_limited`): the `Retry-After` header says when to try again.",
    503: "A service the request needs is unavailable for a moment: try again later.",
}


class ErrorDetailOut(serializers.Serializer):
    code = StrictCharField(help_text="A stable, machine-readable code.")
    message = StrictCharField(help_text="A sentence for people, in the request's language.")
    fields = serializers.DictField(help_text="Per field, what is wrong with it (empty when no field is at fault).")
    permission = StrictCharField(required=False, help_text="With `missing_permission`: the permission's name.")
    retry_after = serializers.IntegerField(required=False, help_text="With a 429: seconds to wait, as the "
                                           "`Retry-After` header says.")
    scope = StrictCharField(required=False, help_text="With `missing_scope`: the scope the API token lacks.")


class ErrorOut(serializers.Serializer):
    """Every error the API answers: {"error": {"code", "message", "fields"}}."""

    error = ErrorDetailOut()


def error_statuses(operation: dict, *, method: str, anonymous_ok: bool, upload: bool) -> list[int]:
    """The error answers an operation can give, from what it takes and who may call it."""
    takes_ids = bool(operation.get("parameters") or operation.get("requestBody"))
    statuses = [400, 401]
    if not (anonymous_ok and method == "GET"):
        statuses.append(403)  # a permission, or the CSRF check of a session request
    if takes_ids:
        statuses.append(404)
    if method != "GET":
        statuses.append(409)
    if upload:
        statuses.append(413)
    if "requestBody" in operation:
        statuses.append(415)
    return [*statuses, 429, 503]


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus the error answers of each operation (those it declares itself
    with @extend_schema are kept)."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        anonymous_ok = any(isinstance(p, AllowAny) for p in self.view.get_permissions())
        statuses = error_statuses(operation, method=self.method, anonymous_ok=anonymous_ok,
                                  upload=isinstance(self.view, CappedUploadView) and "requestBody" in operation)
        blank_is_absent = self._optional_serializer_query_fields()
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] in blank_is_absent:
                parameter["allowEmptyValue"] = True
        responses = operation["responses"]
        for status in statuses:
            responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status]})
        for status, response in responses.items():
            # An error a view declares with only a description has the same body as the rest.
            if status.isdigit() and int(status) >= 400 and "content" not in response:
                response["content"] = self._error_content()
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _optional_serializer_query_fields(self) -> set[str]:
        """Query parameters read through a serializer that do not have to be given: DRF reads
        `?name=` (an emptied form field) as not given, so the schema says an empty value is valid."""
        names = set()
        for parameter in self.get_override_parameters():
            serializer = force_instance(parameter)
            if isinstance(serializer, serializers.Serializer):
                names |= {name for name, field in serializer.fields.items() if not field.required}
        return names

    def _error_content(self) -> dict:
        ref = self.resolve_serializer(ErrorOut, "response").ref
        return {media_type: {"schema": ref} for media_type in self.map_renderers("media_type")}


# --- the gateway's events ----------------------------------------------------------------------------

EVENTS_KEY = "x-gateway-events"


def event_shapes() -> dict[str, list]:
    """{event name: the serializers that document its `d`}, from every app's serializers module's
    EVENT_SHAPES. An event two apps send in two shapes (CHANNEL_CREATE of a guild channel and of a
    DM) has both."""
    shapes: dict[str, list] = {}
    for config in django_apps.get_app_configs():
        if not config.name.startswith("apps."):
            continue
        try:
            module = import_module(f"{config.name}.serializers")
        except ModuleNotFoundError as e:
            if e.name != f"{config.name}.serializers":
                raise
            continue
        for name, serializer in getattr(module, "EVENT_SHAPES", {}).items():
            shapes.setdefault(name, []).append(serializer)
    return shapes


def gateway_events(result, generator, request, public):
    """A postprocessing hook: each event's serializers become components, and the schema's
    `x-gateway-events` maps every event name to its `d`'s schema (a $ref, or oneOf them), which
    docs/gateway.md lists and tests/integration/test_payloads.py checks real events against."""
    view = build_mocked_view(method="GET", path="/", extend_schema_decorator=extend_schema(),
                             registry=generator.registry)
    events = {}
    for name, serializers_ in sorted(event_shapes().items()):
        refs = [view.schema.resolve_serializer(s, "response").ref for s in serializers_]
        events[name] = refs[0] if len(refs) == 1 else {"oneOf": refs}
    # The components were built before this hook ran: build them again with the events' own.
    result["components"] = generator.registry.build(spectacular_settings.APPEND_COMPONENTS)
    result[EVENTS_KEY] = events
    return result
