"""The base of every /api/v10/ view: bot-token authentication, Discord's rate-limit headers and
429 body, and Discord's error JSON {"code", "message"} for every domain error. Views call the same
selectors and services as SmaRTC's own API; only the shapes differ (shapes.py)."""
from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from apps.core import unavailable
from apps.core.converters import MAX_ID, is_id
from apps.core.errors import DomainError, MissingPermission, RateLimited, ValidationFailed, fields_invalid_message

from ..auth import BotAuthentication
from . import ratelimit

# Discord's JSON error codes for SmaRTC's error codes (the rest are decided by status).
UNKNOWN_CHANNEL, UNKNOWN_GUILD, UNKNOWN_MEMBER, UNKNOWN_MESSAGE = 10003, 10004, 10007, 10008
UNKNOWN_EMOJI, MISSING_ACCESS, EMPTY_MESSAGE, MISSING_PERMISSIONS, INVALID_FORM_BODY = 10014, 50001, 50006, 50013, 50035
_CODES = {"unknown_message": UNKNOWN_MESSAGE, "unknown_guild": UNKNOWN_GUILD, "unknown_channel": UNKNOWN_CHANNEL,
          "unknown_member": UNKNOWN_MEMBER, "invalid_emoji": UNKNOWN_EMOJI, "unknown_emoji": UNKNOWN_EMOJI,
          "automod_blocked": 200000,  # Discord's "message blocked by automatic moderation"
          "role_hierarchy": MISSING_PERMISSIONS, "managed_role": MISSING_PERMISSIONS}
_BY_STATUS = {400: INVALID_FORM_BODY, 401: 0, 403: MISSING_ACCESS, 409: 0, 413: 40005}


def discord_error(status: int, code: int, message: str, errors: dict | None = None) -> Response:
    body = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return Response(body, status=status)


def rate_limited(retry_after: float, headers: dict | None = None) -> Response:
    response = Response({"message": gettext("You are being rate limited."), "retry_after": retry_after,
                         "global": False}, status=429)
    for name, value in (headers or {"Retry-After": str(max(1, round(retry_after)))}).items():
        response[name] = value
    return response


def _form_errors(fields: dict) -> dict:
    """SmaRTC's {"field": ["message"]} as Discord's nested {"field": {"_errors": [...]}}."""
    return {name: {"_errors": [{"code": "BASE_TYPE_INVALID", "message": str(m)}
                               for m in (messages if isinstance(messages, list) else [messages])]}
            for name, messages in fields.items()}


class DiscordView(APIView):
    """`route` names the rate-limit bucket with `major` (the URL argument that splits it)."""

    authentication_classes = [BotAuthentication]
    permission_classes = [IsAuthenticated]
    schema = None  # Discord's API, documented by Discord (docs/discord-compat.md), not in /api/schema/
    route = ""
    major = ""
    unknown = UNKNOWN_CHANNEL  # Discord's code for a 404 of this route

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        major = str(kwargs.get(self.major, "")) if self.major else ""
        self.rate_headers = ratelimit.hit(request.user.id, self.route or type(self).__name__, major)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in (getattr(self, "rate_headers", None) or {}).items():
            response[name] = value
        return response

    def handle_exception(self, exc):
        if (dependency := unavailable.dependency(exc)) is not None:
            exc = unavailable.refused(exc, dependency, self.request)
            set_rollback()
        if isinstance(exc, ratelimit.Limited):
            return rate_limited(exc.retry_after, exc.headers)
        if isinstance(exc, exceptions.Throttled):
            return rate_limited(float(exc.wait or 1))
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            response = discord_error(401, 0, "401: Unauthorized")
            response["WWW-Authenticate"] = "Bot"
            return response
        if isinstance(exc, RateLimited):  # slow mode and every other rule of the services
            set_rollback()
            return rate_limited(float(exc.retry_after))
        if isinstance(exc, DomainError):
            set_rollback()
            code = _CODES.get(exc.code)
            if code is None:
                code = self.unknown if exc.status == 404 else _BY_STATUS.get(exc.status, 0)
                if isinstance(exc, MissingPermission):
                    code = MISSING_PERMISSIONS
            response = discord_error(exc.status, code, exc.message, _form_errors(exc.fields) if exc.fields else None)
            if getattr(exc, "retry_after", None):
                response["Retry-After"] = str(exc.retry_after)
            return response
        if isinstance(exc, (Http404, exceptions.NotFound)):
            return discord_error(404, self.unknown, gettext("Not found."))
        if isinstance(exc, exceptions.ValidationError):
            detail = exc.detail if isinstance(exc.detail, dict) else {"_errors": exc.detail}
            return discord_error(400, INVALID_FORM_BODY, fields_invalid_message(), _form_errors(detail))
        if isinstance(exc, exceptions.APIException):
            return discord_error(exc.status_code, 0, str(exc.detail))
        return super().handle_exception(exc)


def query_int(request, name: str, *, default=None, low: int | None = None, high: int | None = None):
    """An integer query parameter (a snowflake or a limit), clamped to [low, high]."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise exceptions.ValidationError({name: [gettext("Must be an integer.")]}) from None
    if low is not None:
        value = max(low, value)
    if high is not None:
        value = min(high, value)
    return value


def snowflake(value, name: str) -> int:
    """An id a client sent, as a number or Discord's string of digits: past what an id column holds
    (MAX_ID) it is refused as the form error it is, as Discord refuses a value that is no snowflake;
    in a query, SQLite could not take it (an OverflowError, a 500) and PostgreSQL would find nothing."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not is_id(value):
        raise ValidationFailed.field(name, gettext("Must be an id, a whole number from 0 to %(max)s.")
                                     % {"max": MAX_ID})
    return value


def query_id(request, name: str, *, default=None):
    """A snowflake query parameter (`before`, `after`, `around`), checked as snowflake() checks one."""
    raw = request.query_params.get(name)
    return default if raw in (None, "") else snowflake(raw, name)
