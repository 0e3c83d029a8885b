"""The API's rate limits: DRF throttles counting in the cache (Redis in production). They live apart
from apps/core/api.py because DRF imports the default throttle class while it builds APIView: this
module must not import rest_framework.views."""
from rest_framework import throttling

from apps.core import unavailable


class UserRateThrottle(throttling.UserRateThrottle):
    """The API rate per user (API_USER_RATE). Its counters are in Redis; when Redis cannot be reached
    the request goes on uncounted (logged and counted as bypassed) rather than refused: reading
    history or sending a message does not need Redis, and a rate limit off for the minutes of a Redis
    restart does less harm than an API that is down for them."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:
            if unavailable.dependency(exc) != "redis":
                raise
            unavailable.bypassed(exc, "redis", "the API rate limit")
            return True


class UploadRateThrottle(throttling.UserRateThrottle):
    """Uploads per user (API_UPLOAD_RATE), on top of the general API rate: each one costs storage
    and worker time that a read does not. With Redis down it refuses (503) before anything is
    stored: an upload's processing is queued on Redis, so it could not go on anyway."""

    scope = "uploads"
