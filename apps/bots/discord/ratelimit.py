"""Discord's per-route rate limits: a fixed window per bot and bucket (the route's template and its
major parameter: channel or guild), counted in the cache (Redis in production), announced on every
answer with X-RateLimit-* headers; past the limit a 429 with Discord's body."""
from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings

from apps.core import ratelimit


class Limited(Exception):
    def __init__(self, retry_after: float, headers: dict):
        super().__init__("rate limited")
        self.retry_after, self.headers = retry_after, headers


def bucket_of(route: str, major: str) -> str:
    return hashlib.sha1(f"{route}:{major}".encode()).hexdigest()[:16]


def hit(bot_id: int, route: str, major: str) -> dict:
    """Count one request; its headers, or Limited past the limit."""
    limit, window = settings.BOT_API_RATE_LIMIT, settings.BOT_API_RATE_WINDOW
    now = time.time()
    index = math.floor(now / window)
    reset = (index + 1) * window
    bucket = bucket_of(route, major)
    count = ratelimit.hit(f"discord:{bot_id}:{bucket}:{index}", window=window + 1)
    after = max(0.001, round(reset - now, 3))
    headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(0, limit - count)),
               "X-RateLimit-Reset": f"{reset:.3f}", "X-RateLimit-Reset-After": f"{after:.3f}",
               "X-RateLimit-Bucket": bucket}
    if count > limit:
        raise Limited(after, {**headers, "X-RateLimit-Scope": "user", "Retry-After": str(math.ceil(after))})
    return headers
