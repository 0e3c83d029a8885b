"""Domain errors: every service raises one of these; the API handler and (later) the gateway
turn them into one error shape: {"error": {"code", "message", "fields"}}."""
from __future__ import annotations

from django.utils import formats, timezone
from django.utils.translation import gettext


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "fields": self.fields}


class ValidationFailed(DomainError):
    status = 400
    code = "validation_failed"

    @classmethod
    def field(cls, name: str, message: str) -> ValidationFailed:
        return cls(message, fields={name: [message]})

    @classmethod
    def in_fields(cls, fields: dict) -> ValidationFailed:
        """Field errors under the message a serializer's refusal gives: the fields say what is wrong."""
        return cls(fields_invalid_message(), fields=fields)


def fields_invalid_message() -> str:
    return gettext("Some fields are invalid.")


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class MissingPermission(Forbidden):
    """The actor lacks a named permission bit (the message names it)."""

    code = "missing_permission"

    def __init__(self, permission: str, message: str | None = None):
        super().__init__(message or gettext("You need the %(permission)s permission.") % {"permission": permission})
        self.permission = permission

    def as_dict(self) -> dict:
        return {**super().as_dict(), "permission": self.permission}


class MemberTimedOut(MissingPermission):
    """A timed-out member asked for something a timeout takes away. The message says until when
    (in the server's time zone); `timed_out_until` lets a client say it in the reader's."""

    code = "timed_out"

    def __init__(self, permission: str, until):
        super().__init__(permission, gettext("You are timed out until %(time)s.") % {"time": shown_time(until)})
        self.timed_out_until = until

    def as_dict(self) -> dict:
        return {**super().as_dict(), "timed_out_until": self.timed_out_until.isoformat()}


class TwoFactorRequired(MissingPermission):
    """The guild requires two-factor authentication of its moderators and the actor has none: the
    permission is theirs once they turn it on."""

    code = "mfa_required"

    def __init__(self, permission: str):
        super().__init__(permission, gettext(
            "This guild requires two-factor authentication for moderation: turn it on in your account "
            "settings to use %(permission)s.") % {"permission": permission})


def shown_time(moment) -> str:
    """A moment soon to come, as words: its time today, else its date and time, with the zone."""
    local = timezone.localtime(moment)
    shown = formats.date_format(local, "H:i")
    if local.date() != timezone.localtime().date():
        shown = f"{formats.date_format(local, 'SHORT_DATE_FORMAT')} {shown}"
    return f"{shown} {local.tzname()}"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None, fields: dict | None = None):
        super().__init__(message, code=code, fields=fields)
        self.retry_after = retry_after

    def as_dict(self) -> dict:
        return {**super().as_dict(), "retry_after": self.retry_after}


class PayloadTooLarge(DomainError):
    status = 413
    code = "too_large"


class ServiceUnavailable(DomainError):
    """A part the request needs (database, Redis, storage, queue) cannot be reached right now:
    apps/core/unavailable.py decides it and answers with Retry-After."""

    status = 503
    code = "service_unavailable"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
