"""ICE servers for a participant: the configured STUN servers, plus TURN with short-lived
credentials in coturn's REST scheme (`use-auth-secret`): the username is "<expiry unix>:<user id>"
and the password is base64(HMAC-SHA1(TURN_SECRET, username)). coturn recomputes the password from
its own copy of the secret and refuses a username whose expiry has passed, so nothing is stored."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time

from django.conf import settings


def turn_credentials(user_id: int, *, now: float | None = None) -> dict:
    expiry = int(time.time() if now is None else now) + settings.TURN_TTL
    username = f"{expiry}:{user_id}"
    digest = hmac.new(settings.TURN_SECRET.encode(), username.encode(), hashlib.sha1).digest()
    return {"username": username, "credential": base64.b64encode(digest).decode()}


def ice_servers(user_id: int, *, now: float | None = None) -> list[dict]:
    """RTCPeerConnection's `iceServers` for this user."""
    servers = [dict(s) for s in settings.RTC_ICE_SERVERS]
    if settings.TURN_URLS and settings.TURN_SECRET:
        servers.append({"urls": list(settings.TURN_URLS), **turn_credentials(user_id, now=now)})
    return servers
