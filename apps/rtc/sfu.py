"""Rooms past RTC_MESH_MAX go through Janus's VideoRoom; Django stays the authority on who is in.

Each voice channel has one Janus room (its id is the channel id) with a secret only Django knows
and an access list of tokens: Django adds a participant's token when it admits them and removes it
(and kicks their feed) when they leave, so Janus refuses anyone Django did not let in. Tokens and
secrets are derived from SECRET_KEY, not stored: any app process computes the same ones. A
participant publishes in Janus under their user id, which is also how the others' browsers know
whose feed is whose.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.crypto import salted_hmac

from . import events as ev
from . import quality
from .errors import SfuError, SfuUnavailable
from .janus import Janus

log = logging.getLogger(__name__)


def enabled() -> bool:
    return bool(settings.JANUS_URL)


def room_secret(channel_id: int) -> str:
    return salted_hmac("smartc.rtc.janus.room", str(channel_id), algorithm="sha256").hexdigest()[:32]


def token_for(state: dict) -> str:
    """The Janus access token of one participant (a user's session in a channel)."""
    value = f"{state['channel_id']}:{state['user_id']}:{state['session_id']}"
    return salted_hmac("smartc.rtc.janus.token", value, algorithm="sha256").hexdigest()[:40]


def public_url() -> str:
    if settings.JANUS_PUBLIC_URL:
        return settings.JANUS_PUBLIC_URL
    host = urlsplit(settings.JANUS_URL).hostname or "127.0.0.1"
    return f"ws://{host}:8188"


def credentials(state: dict) -> dict:
    """What a participant's browser needs to publish and subscribe in the channel's Janus room."""
    return {"url": public_url(), "room": state["channel_id"], "token": token_for(state), "feed": state["user_id"],
            "display": str(state["user_id"])}


def admit(channel, states: list[dict]) -> None:
    """Make sure the channel's Janus room exists and lets these participants in (idempotent). The
    joiner (last) is first kicked under their user id: a tab that takes over the call replaces the
    old one's feed. Raises SfuUnavailable if Janus does not answer or refuses."""
    try:
        _open(channel.id, states, description=channel.name)
        Janus().kick(channel.id, secret=room_secret(channel.id), participant=states[-1]["user_id"])
    except SfuError as exc:
        if isinstance(exc, SfuUnavailable):
            raise
        log.warning("Janus refused to admit participants to room %s: %s", channel.id, exc)
        raise SfuUnavailable(str(exc)) from exc


def _open(channel_id: int, states: list[dict], *, description: str = "") -> None:
    janus, secret, tokens = Janus(), room_secret(channel_id), [token_for(s) for s in states]
    if not janus.create(channel_id, secret=secret, allowed=tokens, publishers=settings.JANUS_ROOM_PUBLISHERS,
                        description=description):
        janus.allow(channel_id, secret=secret, tokens=tokens)


def after_resize(guild_id: int, channel_id: int, room: list[dict], *, left: list[dict], joined: int) -> None:
    """A channel's participants changed: throw those who left out of its Janus room, and when the
    room crossed RTC_MESH_MAX tell everyone in it the new topology (with their own Janus token)."""
    from apps.core.events import publish, user_group

    if not enabled():
        return
    janus, secret = Janus(), room_secret(channel_id)
    try:
        for state in left:
            janus.kick(channel_id, secret=secret, participant=state["user_id"])
            janus.allow(channel_id, secret=secret, tokens=[token_for(state)], action="remove")
        if left and not room:
            janus.destroy(channel_id, secret=secret)
    except SfuError as exc:  # the call goes on; Janus forgets the room when it restarts anyway
        log.warning("could not update Janus room %s: %s", channel_id, exc)
    before = len(room) + len(left) - joined
    now = topology(len(room))
    if not room or now == topology(before):
        return
    if now == quality.SFU:
        # A join opened the room already; a moderator's move into it did not.
        try:
            _open(channel_id, room)
        except SfuError as exc:
            log.warning("could not open Janus room %s: %s", channel_id, exc)
    for state in room:
        sfu = credentials(state) if now == quality.SFU else None
        publish(user_group(state["user_id"]), ev.VOICE_TOPOLOGY_UPDATE, ev.topology_update(state, now, sfu))


def topology(participants: int) -> str:
    return quality.MESH if participants <= settings.RTC_MESH_MAX else quality.SFU
