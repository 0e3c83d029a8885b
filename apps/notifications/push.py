"""Web Push on the wire: which endpoints a subscription may name, and one push sent (RFC 8030),
encrypted for the browser (RFC 8291, aes128gcm) and signed with the server's VAPID key (RFC 8292)
by pywebpush. No database here: services.deliver_push decides what to do with each outcome."""
from __future__ import annotations

import base64
import binascii
import functools
import json
import time
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from py_vapid import Vapid
from pywebpush import WebPusher

P256DH_BYTES = 65  # an uncompressed P-256 point
AUTH_BYTES = 16
ENDPOINT_MAX = 2048
JWT_LIFETIME = 12 * 3600  # seconds; RFC 8292 allows at most 24 h


class Gone(Exception):
    """The push service no longer knows the subscription (404 or 410): delete it."""


class Refused(Exception):
    """The push service refused this push for good (another 4xx): retrying would not help."""


class Retry(Exception):
    """No answer, a 429 or a 5xx: try again later (`retry_after` seconds when the service said)."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def b64url_decode(value: str) -> bytes:
    if not isinstance(value, str) or not value.isascii():
        raise ValueError("not base64url text")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url text") from exc


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def valid_p256dh(value: str) -> bool:
    """A browser's subscription key: a point on P-256, uncompressed."""
    try:
        raw = b64url_decode(value)
        if len(raw) != P256DH_BYTES or raw[0] != 4:
            return False
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        return False
    return True


def valid_auth(value: str) -> bool:
    try:
        return len(b64url_decode(value)) == AUTH_BYTES
    except ValueError:
        return False


def _host_matches(host: str, allowed: str) -> bool:
    allowed = allowed.lower().lstrip(".")
    return host == allowed or host.endswith("." + allowed)


def endpoint_allowed(endpoint: str) -> bool:
    """An https URL of a known push service (PUSH_SERVICE_HOSTS), or a plain-http one of a test
    host (PUSH_HTTP_HOSTS); never credentials in the URL."""
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return False
    if not host or parts.username or parts.password or parts.fragment:
        return False
    if parts.scheme == "https":
        return any(a == "*" or _host_matches(host, a) for a in settings.PUSH_SERVICE_HOSTS)
    if parts.scheme == "http":
        named = f"{host}:{port}" if port else host
        return any(a.lower() in (host, named) for a in settings.PUSH_HTTP_HOSTS)
    return False


def enabled() -> bool:
    return bool(settings.VAPID_PRIVATE_KEY)


@functools.lru_cache(maxsize=4)
def _vapid(private_key: str) -> Vapid:
    return Vapid.from_string(private_key)


def public_key() -> str:
    """The key browsers subscribe with (applicationServerKey): VAPID_PUBLIC_KEY, or the one of
    VAPID_PRIVATE_KEY."""
    if settings.VAPID_PUBLIC_KEY:
        return settings.VAPID_PUBLIC_KEY
    key = _vapid(settings.VAPID_PRIVATE_KEY).public_key
    return b64url(key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


def origin(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


class _NoRedirects(requests.Session):
    """A push service answers; it never sends the server elsewhere (a redirect is a refusal)."""

    def request(self, *args, **kwargs):
        kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)


def send(*, endpoint: str, p256dh: str, auth: str, data: dict, urgency: str = "high") -> None:
    """Encrypt `data` (JSON) for the subscription and post it to its push service, signed with the
    VAPID key. Returns on 2xx; raises Gone, Refused or Retry otherwise."""
    if not endpoint_allowed(endpoint):
        raise Refused("the endpoint is no longer an allowed push service")
    claims = {"sub": settings.VAPID_SUBJECT, "aud": origin(endpoint), "exp": int(time.time()) + JWT_LIFETIME}
    headers = {**_vapid(settings.VAPID_PRIVATE_KEY).sign(claims), "Urgency": urgency}
    pusher = WebPusher({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
                       requests_session=_NoRedirects())
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    try:
        response = pusher.send(body, headers, ttl=settings.PUSH_TTL, content_encoding="aes128gcm",
                               timeout=settings.PUSH_TIMEOUT)
    except requests.RequestException as exc:  # no answer (timeout, refused connection, reset)
        raise Retry(f"no answer from the push service: {exc.__class__.__name__}") from exc
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in (404, 410):
        raise Gone(f"the push service answered {status}")
    if status == 429 or status >= 500:
        raise Retry(f"the push service answered {status}", retry_after=_retry_after(response))
    raise Refused(f"the push service answered {status}: {response.text[:200]}")


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None
