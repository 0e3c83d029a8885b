"""When a part SmaRTC depends on cannot be reached: PostgreSQL, Redis, S3 or the task queue.

A request that needed the part is answered 503 `service_unavailable` with Retry-After (the API's
error shape, or a short page), never a 500: the API's exception handler, the middleware below (page
views) and `server_error` (whatever escapes a middleware) all come here. A write that needed the part
was inside its transaction, so it is rolled back with the error. Where a part only helps a request
along (the API rate counters in Redis), the caller goes on without it and calls `bypassed`.
Both outcomes are logged and counted in `smartc_dependency_unavailable_total{dependency, outcome}`.
docs/reliability.md lists each fault and what users see.
"""
from __future__ import annotations

import logging
import sys

from django.db import transaction
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext
from prometheus_client import Counter

from .errors import ServiceUnavailable

log = logging.getLogger(__name__)

# Seconds a client is asked to wait: a Redis or PostgreSQL restart takes a few.
RETRY_AFTER_SECONDS = 5

UNAVAILABLE = Counter("smartc_dependency_unavailable",
                      "Requests that met a dependency they could not reach: refused (503) or bypassed.",
                      ["dependency", "outcome"])


def dependency(exc: BaseException) -> str | None:
    """Which part `exc` says cannot be reached now (`database`, `redis`, `storage`, `queue`), or None
    when it is some other error (a bug stays a 500)."""
    from django.db import InterfaceError, OperationalError
    from kombu.exceptions import OperationalError as QueueError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        return "redis"
    if isinstance(exc, (OperationalError, InterfaceError)):  # the pool's timeout included
        return "database"
    if isinstance(exc, QueueError):
        return "queue"
    if _storage_unreachable(exc):
        return "storage"
    return None


def _storage_unreachable(exc: BaseException) -> bool:
    try:
        from botocore.exceptions import ClientError, ConnectionError, HTTPClientError
    except ImportError:  # no S3 support installed: media are on a local disk
        return False
    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return True
    # S3 answering 500/503 (SlowDown, InternalError) is S3 being unavailable, not a bad request.
    return isinstance(exc, ClientError) and exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500


def refused(exc: BaseException, name: str, request=None) -> ServiceUnavailable:
    """Count and log a request refused because `name` is down; the domain error to answer with."""
    UNAVAILABLE.labels(name, "refused").inc()
    where = f" {request.method} {request.path}" if request is not None else ""
    log.warning("%s unavailable:%s answered 503 (%s: %s)", name, where, type(exc).__name__, exc)
    return ServiceUnavailable(gettext("Something SmaRTC needs is not answering. Nothing was changed. "
                                      "Try again in a moment."), retry_after=RETRY_AFTER_SECONDS)


def bypassed(exc: BaseException, name: str, what: str) -> None:
    """Count and log a request that goes on without `name` (which only helped it: `what`)."""
    UNAVAILABLE.labels(name, "bypassed").inc()
    log.warning("%s unavailable: %s skipped (%s: %s)", name, what, type(exc).__name__, exc)


def after_commit(func, *, what: str) -> None:
    """Run `func` (it queues follow-up work, e.g. a thumbnail task) once the transaction commits.
    By then the write is saved: if the queue cannot be reached, the request still succeeds, and the
    miss is logged and counted rather than turned into an error for work that was done. Any other
    error there (a task run inline by a manage.py command, a bug) is logged with its traceback and
    never answered either (`robust`): the write stands."""

    def run():
        try:
            func()
        except Exception as exc:
            name = dependency(exc)
            if name is None:
                raise
            bypassed(exc, name, what)

    transaction.on_commit(run, robust=True)


def response(request, exc: BaseException) -> HttpResponse | None:
    """The 503 for `exc` if a dependency is down: JSON in the API's shape under /api/, a page elsewhere."""
    name = dependency(exc)
    if name is None:
        return None
    error = refused(exc, name, request)
    if request.path.startswith("/api/"):
        answer = JsonResponse({"error": error.as_dict()}, status=503)
    else:
        # Rendered without the request's context: the context processors read the database.
        answer = HttpResponse(render_to_string("503.html", {"message": error.message}), status=503)
    answer["Retry-After"] = str(error.retry_after)
    return answer


class UnavailableMiddleware:
    """Pages (and any view outside DRF) answer 503 rather than 500 when a dependency is down."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        return response(request, exc)


def server_error(request):
    """handler500: what escaped a middleware (a session saved to a database that went away) is a 503
    too when a dependency is the cause; anything else is the usual 500."""
    exc = sys.exc_info()[1]
    answer = response(request, exc) if exc is not None else None
    if answer is not None:
        return answer
    from django.views.defaults import server_error as default

    return default(request) if request is not None else HttpResponseServerError()
