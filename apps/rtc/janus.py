"""A small synchronous client for the Janus HTTP API and its VideoRoom plugin: what Django needs to
keep Janus's rooms in step with who it admitted (rooms, their `allowed` tokens, kicks).

Every call opens a short Janus session, attaches the VideoRoom plugin, sends one synchronous
request and destroys the session: Django holds no long-lived Janus state, so a restarted Janus or a
second app process never sees a stale handle. Call it from sync code (services run in a thread).
"""
from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request

from django.conf import settings
from django.utils.translation import gettext

from .errors import SfuError, SfuUnavailable

PLUGIN = "janus.plugin.videoroom"
# VideoRoom error codes the client treats as outcomes, not failures.
NO_SUCH_ROOM = 426
ROOM_EXISTS = 427
NO_SUCH_FEED = 428


class JanusError(SfuError):
    """Janus answered with an error; `janus_code` is Janus's or the VideoRoom plugin's number."""

    def __init__(self, message: str, *, janus_code: int | None = None):
        super().__init__(message)
        self.janus_code = janus_code


class Janus:
    def __init__(self, url: str | None = None, *, timeout: float | None = None, admin_key: str | None = None):
        self.url = (url or settings.JANUS_URL).rstrip("/")
        self.timeout = timeout if timeout is not None else settings.JANUS_TIMEOUT
        self.admin_key = admin_key if admin_key is not None else settings.JANUS_ADMIN_KEY

    # --- VideoRoom requests -----------------------------------------------------------------------

    def exists(self, room: int) -> bool:
        return bool(self.videoroom({"request": "exists", "room": room}).get("exists"))

    def create(self, room: int, *, secret: str, allowed: list[str], publishers: int, description: str = "") -> bool:
        """Create a private room whose joiners must show one of the `allowed` tokens; False if it
        already existed (creating is idempotent)."""
        body = {"request": "create", "room": room, "secret": secret, "allowed": allowed, "is_private": True,
                "publishers": publishers, "description": description or f"channel {room}",
                "audiocodec": "opus", "videocodec": "vp8", "notify_joining": False, "permanent": False}
        if self.admin_key:
            body["admin_key"] = self.admin_key
        try:
            self.videoroom(body)
        except JanusError as exc:
            if exc.janus_code == ROOM_EXISTS:
                return False
            raise
        return True

    def allow(self, room: int, *, secret: str, tokens: list[str], action: str = "add") -> None:
        """Add tokens to (or `remove` them from) the room's access list."""
        self.videoroom({"request": "allowed", "room": room, "secret": secret, "action": action, "allowed": tokens})

    def kick(self, room: int, *, secret: str, participant: int) -> bool:
        """Throw a publisher out of the room; False if they were not in it (or the room is gone)."""
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
        """Send one synchronous VideoRoom request; returns the plugin's data (errors raise)."""
        session = self._post("", {"janus": "create"})["data"]["id"]
        try:
            handle = self._post(f"/{session}", {"janus": "attach", "plugin": PLUGIN})["data"]["id"]
            answer = self._post(f"/{session}/{handle}", {"janus": "message", "body": body})
        finally:
            try:
                self._post(f"/{session}", {"janus": "destroy"})
            except SfuError:
                pass  # the session times out on its own in Janus
        data = answer.get("plugindata", {}).get("data", {})
        if "error_code" in data or "error" in data:
            raise JanusError(data.get("error", "VideoRoom error"), janus_code=data.get("error_code"))
        return data

    # --- transport --------------------------------------------------------------------------------

    def _post(self, path: str, message: dict) -> dict:
        message = {**message, "transaction": secrets.token_hex(8)}
        request = urllib.request.Request(self.url + path, data=json.dumps(message).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
        except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError) as exc:
            raise SfuUnavailable(gettext("The media server does not answer.")) from exc
        if answer.get("janus") == "error":
            err = answer.get("error", {})
            raise JanusError(err.get("reason", "Janus error"), janus_code=err.get("code"))
        return answer
