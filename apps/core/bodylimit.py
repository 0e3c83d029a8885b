"""Request bodies over their endpoint's limit are refused with 413 before they are read.

Django's ASGI handler reads a whole body (to memory, then a temporary file) before any view or
middleware runs, so a check in a view comes after the bytes were taken in. `refuse_oversized_bodies`
wraps the ASGI application instead: it looks up the endpoint's limit from the path, and when the
declared Content-Length is over it, or a body without one grows past it, the application is handed
an empty body and a mark in the scope; `BodyLimitMiddleware` then answers 413 in the usual shape
(the API's error JSON, a page's text) without parsing anything. Under uvicorn the rest of the
body is never taken off the socket; daphne buffers a body before it calls the application, so
in production nginx (`client_max_body_size`, set to the same limits) refuses it first.

Limits: an upload endpoint declares `max_body_bytes()` (CappedUploadView: its file limit plus the
multipart envelope; a page with a file field: `@body_limit(...)`); everything else gets
DATA_UPLOAD_MAX_MEMORY_SIZE, Django's own bound on a body without files."""
from __future__ import annotations

import asyncio

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext

from apps.core.errors import PayloadTooLarge

TOO_LARGE = "smartc.body_too_large"
# The multipart envelope (boundaries, part headers, the form's other fields) on top of its files.
ENVELOPE_BYTES = 64 * 1024


def body_limit(limit):
    """Declares a page view's body limit: `limit()` bytes of files, plus the envelope."""
    def decorate(view):
        view.max_body_bytes = lambda: limit() + ENVELOPE_BYTES
        return view
    return decorate


def _view(path: str):
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return getattr(match.func, "view_class", None) or match.func


def limit_for(path: str) -> int | None:
    """The most bytes a request body to `path` may have (None: no limit)."""
    declared = getattr(_view(path), "max_body_bytes", None)
    return declared() if declared else settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def refuse_oversized_bodies(app):
    async def application(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        path = scope["path"]
        root = scope.get("root_path", "")
        limit = limit_for(path[len(root):] if root and path.startswith(root) else path)
        if limit is None:
            return await app(scope, receive, send)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            scope[TOO_LARGE] = limit
        received = 0
        ended = False

        async def bounded():
            nonlocal received, ended
            if ended:
                # Django listens for a disconnect while the 413 is sent; reading on would take the
                # rest of the body off the socket, so wait until that listener is cancelled.
                await asyncio.Event().wait()
            if TOO_LARGE in scope:
                ended = True
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    scope[TOO_LARGE] = limit  # Django builds its request from this scope afterwards
                    ended = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        return await app(scope, bounded, send)

    return application


def too_large_error(path: str, limit: int) -> PayloadTooLarge:
    view = _view(path)
    if hasattr(view, "too_large"):  # an upload endpoint names its own limit and code
        return view().too_large()
    return request_too_large(limit)


def request_too_large(limit: int) -> PayloadTooLarge:
    megabytes = max(1, round(limit / (1024 * 1024)))
    return PayloadTooLarge(gettext("The request is too large: at most %(n)s MB.") % {"n": megabytes},
                           code="request_too_large")


class BodyLimitMiddleware:
    """Answers 413 for a request whose body refuse_oversized_bodies() held back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = getattr(request, "scope", {}).get(TOO_LARGE)
        if limit is None:
            return self.get_response(request)
        error = too_large_error(request.path_info, limit)
        if request.path_info.startswith("/api/"):
            response = JsonResponse({"error": error.as_dict()}, status=413)
        else:
            response = HttpResponse(error.message, status=413, content_type="text/plain; charset=utf-8")
        response["Content-Length"] = str(len(response.content))
        response["Connection"] = "close"  # the rest of the body is not read
        return response
