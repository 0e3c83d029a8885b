"""A small synchronous client for Janus, for what Django needs to keep Janus's rooms in step with
who it admitted: rooms, the tokens browsers present, kicks, and the publishers Django seats.

Janus runs with token authentication: a browser's every request must carry a token Django added
through the Admin API (and removes when the participant leaves); Django itself signs with the
shared key (JANUS_ADMIN_KEY: the VideoRoom admin_key and Janus's api_secret and admin_secret).
VideoRoom requests that need no session (create, kick, list participants, destroy) go through the
Admin API's `message_plugin`, one HTTP request each. Seating a publisher needs a session: Django
creates it over the HTTP API, joins, and hands the session to the browser, which claims it.
Call it from sync code (services run in a thread).
"""
from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.utils.translation import gettext

from .errors import JANUS_FAILURES, SfuError, SfuUnavailable

PLUGIN = "janus.plugin.videoroom"
ADMIN_PORT = 7088
# VideoRoom error codes the client treats as outcomes, not failures.
NO_SUCH_ROOM = 426
ROOM_EXISTS = 427
NO_SUCH_FEED = 428
# Janus core: a token that is not (or no longer) on its list.
TOKEN_NOT_FOUND = 470


class JanusError(SfuError):
    """Janus answered with an error; `janus_code` is Janus's or the VideoRoom plugin's number."""

    def __init__(self, message: str, *, janus_code: int | None = None):
        super().__init__(message)
        self.janus_code = janus_code


def admin_url() -> str:
    """JANUS_ADMIN_URL, else the Admin API beside JANUS_URL (same host, port 7088, /admin)."""
    if settings.JANUS_ADMIN_URL:
        return settings.JANUS_ADMIN_URL
    parts = urlsplit(settings.JANUS_URL)
    return f"{parts.scheme or 'http'}://{parts.hostname or '127.0.0.1'}:{ADMIN_PORT}/admin"


class Janus:
    def __init__(self, url: str | None = None, *, admin: str | None = None, timeout: float | None = None,
                 admin_key: str | None = None):
        self.url = (url or settings.JANUS_URL).rstrip("/")
        self.admin = (admin or admin_url()).rstrip("/")
        self.timeout = timeout if timeout is not None else settings.JANUS_TIMEOUT
        self.key = admin_key if admin_key is not None else settings.JANUS_ADMIN_KEY

    # --- VideoRoom requests -----------------------------------------------------------------------

    def exists(self, room: int) -> bool:
        return bool(self.videoroom({"request": "exists", "room": room}).get("exists"))

    def create(self, room: int, *, secret: str, allowed: list[str], publishers: int, description: str = "") -> bool:
        """Create a private room: only `allowed` tokens join it as publishers, a subscription
        needs the private id of a publisher in it (`require_pvtid`: kicking a publisher ends its
        subscriptions too), and nobody records without the secret. False if it already existed."""
        body = {"request": "create", "room": room, "secret": secret, "allowed": allowed, "is_private": True,
                "require_pvtid": True, "lock_record": True, "publishers": publishers,
                "description": description or f"channel {room}", "audiocodec": "opus", "videocodec": "vp8",
                "notify_joining": False, "permanent": False, "admin_key": self.key}
        try:
            self.videoroom(body)
        except JanusError as exc:
            if exc.janus_code == ROOM_EXISTS:
                return False
            raise
        return True

    def kick(self, room: int, *, secret: str, participant: int) -> bool:
        """Throw a publisher (and its subscriptions) out of the room; False if it was not in it."""
        try:
            self.videoroom({"request": "kick", "room": room, "secret": secret, "id": participant})
        except JanusError as exc:
            if exc.janus_code in (NO_SUCH_ROOM, NO_SUCH_FEED):
                return False
            raise
        return True

    def participants(self, room: int) -> list[dict]:
        return self.videoroom({"request": "listparticipants", "room": room}).get("participants", [])

    def destroy(self, room: int, *, secret: str) -> bool:
        try:
            self.videoroom({"request": "destroy", "room": room, "secret": secret})
        except JanusError as exc:
            if exc.janus_code == NO_SUCH_ROOM:
                return False
            raise
        return True

    def videoroom(self, body: dict) -> dict:
        """One VideoRoom request through the Admin API; returns the plugin's data (errors raise)."""
        data = self._admin({"janus": "message_plugin", "plugin": PLUGIN, "request": body}).get("response", {})
        if "error_code" in data or "error" in data:
            raise JanusError(data.get("error", "VideoRoom error"), janus_code=data.get("error_code"))
        return data

    # --- tokens -----------------------------------------------------------------------------------

    def add_token(self, token: str) -> None:
        """Let a browser presenting `token` use Janus (the VideoRoom plugin only); idempotent."""
        self._admin({"janus": "add_token", "token": token, "plugins": [PLUGIN]})

    def remove_token(self, token: str) -> bool:
        """Refuse `token` from now on: every request of a session using it fails, so the session
        ends at its next keepalive. False if it was not on the list."""
        try:
            self._admin({"janus": "remove_token", "token": token})
        except JanusError as exc:
            if exc.janus_code == TOKEN_NOT_FOUND:
                return False
            raise
        return True

    # --- seating a publisher ----------------------------------------------------------------------

    def seat(self, room: int, *, feed: int, display: str, token: str) -> dict:
        """Join `room` as publisher `feed` in a new session, for a browser to claim: returns
        {"session", "handle", "private_id"}. The browser never holds the room's join token, so it
        publishes under no other id and no second time."""
        session = self._post("", {"janus": "create"})["data"]["id"]
        try:
            handle = self._post(f"/{session}", {"janus": "attach", "plugin": PLUGIN})["data"]["id"]
            join = {"request": "join", "ptype": "publisher", "room": room, "id": feed, "display": display,
                    "token": token}
            sent = self._post(f"/{session}/{handle}", {"janus": "message", "body": join})
            data = self._event(session, sent["transaction"])
            if "error_code" in data or data.get("videoroom") != "joined":
                raise JanusError(data.get("error", "VideoRoom join refused"), janus_code=data.get("error_code"))
        except JANUS_FAILURES:
            self._drop_session(session)
            raise
        return {"session": session, "handle": handle, "private_id": data["private_id"]}

    def _event(self, session: int, transaction: str) -> dict:
        """The plugin's answer to an asynchronous request: the session's event of that transaction,
        from the HTTP API's long poll."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            query = urlencode({"maxev": 1, "rid": secrets.token_hex(4), "apisecret": self.key})
            event = self._send(urllib.request.Request(f"{self.url}/{session}?{query}"))
            if event.get("janus") == "event" and event.get("transaction") == transaction:
                return event.get("plugindata", {}).get("data", {})
        raise SfuUnavailable(gettext("The media server does not answer."))

    def _drop_session(self, session: int) -> None:
        try:
            self._post(f"/{session}", {"janus": "destroy"})
        except JANUS_FAILURES:
            pass  # it times out in Janus on its own

    # --- transport --------------------------------------------------------------------------------

    def _admin(self, message: dict) -> dict:
        message = {**message, "transaction": secrets.token_hex(8), "admin_secret": self.key}
        return self._send(self._request(self.admin, message))

    def _post(self, path: str, message: dict) -> dict:
        message = {**message, "transaction": secrets.token_hex(8), "apisecret": self.key}
        answer = self._send(self._request(self.url + path, message))
        answer.setdefault("transaction", message["transaction"])
        return answer

    @staticmethod
    def _request(url: str, message: dict) -> urllib.request.Request:
        return urllib.request.Request(url, data=json.dumps(message).encode(),
                                      headers={"Content-Type": "application/json"}, method="POST")

    def _send(self, request: urllib.request.Request) -> dict:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
        except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError) as exc:
            raise SfuUnavailable(gettext("The media server does not answer.")) from exc
        if answer.get("janus") == "error":
            err = answer.get("error", {})
            raise JanusError(err.get("reason", "Janus error"), janus_code=err.get("code"))
        return answer
