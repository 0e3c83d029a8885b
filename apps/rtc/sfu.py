"""Rooms past RTC_MESH_MAX go through Janus's VideoRoom; Django stays the authority on who is in.

Each voice channel has one Janus room, with an id, a secret and a join token derived from
SECRET_KEY (any app process computes the same ones; a member cannot work out the room of a channel
they cannot view). Only Django holds the join token: it seats every publisher itself, under the
participant's user id (the feed id, which is how browsers map feeds to tiles), in a Janus session
it then hands to that participant's browser to claim. So a browser publishes under no other id
and never twice. What the browser holds is its own Janus token, one per participant (a user's
session in a channel), added to Janus's token list when it is seated: without it Janus answers
nothing, not even a room's participant list. A subscription needs the private id of the
browser's own publisher. When a participant leaves (or is moved, disconnected, expires), Django
kicks their feed, which also ends their subscriptions, and takes their token off the list, so
the session they hold stops working at once.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.crypto import salted_hmac

from . import events as ev
from . import payloads, quality
from .errors import JANUS_FAILURES, SfuError, SfuUnavailable
from .janus import Janus

log = logging.getLogger(__name__)


def enabled() -> bool:
    return bool(settings.JANUS_URL)


def room_id(channel_id: int) -> int:
    """The Janus room of a channel: a 52-bit number (safe in JavaScript) nobody can derive from
    the channel id without SECRET_KEY."""
    digest = salted_hmac("smartc.rtc.janus.room-id", str(channel_id), algorithm="sha256").hexdigest()
    return int(digest[:13], 16) or 1


def room_secret(channel_id: int) -> str:
    return salted_hmac("smartc.rtc.janus.room", str(channel_id), algorithm="sha256").hexdigest()[:32]


def room_token(channel_id: int) -> str:
    """The one token on the room's `allowed` list: Django's, to seat publishers."""
    return salted_hmac("smartc.rtc.janus.join", str(channel_id), algorithm="sha256").hexdigest()[:40]


def token_for(state: dict) -> str:
    """The Janus token of one participant: a user's session in a channel, from one join."""
    value = f"{state['channel_id']}:{state['user_id']}:{state['session_id']}:{state.get('joined_at', 0)}"
    return salted_hmac("smartc.rtc.janus.token", value, algorithm="sha256").hexdigest()[:40]


def public_url() -> str:
    if settings.JANUS_PUBLIC_URL:
        return settings.JANUS_PUBLIC_URL
    host = urlsplit(settings.JANUS_URL).hostname or "127.0.0.1"
    return f"ws://{host}:8188"


def admit(channel) -> None:
    """Make sure the channel's Janus room exists (idempotent). Raises SfuUnavailable if Janus does
    not answer or refuses."""
    try:
        _open(channel.id, description=channel.name)
    except JANUS_FAILURES as exc:
        raise _unavailable(exc) from exc


def seat(state: dict, janus: Janus | None = None) -> dict:
    """Seat a participant in their channel's Janus room and return what their browser needs: the
    room, their token, and the session, handle and private id of the publisher Django joined for
    them under their user id (any earlier feed of theirs there is kicked first: a tab that takes
    over the call replaces the old one's). Raises SfuUnavailable."""
    janus, channel_id, token = janus or Janus(), state["channel_id"], token_for(state)
    room = room_id(channel_id)
    try:
        janus.add_token(token)
        janus.kick(room, secret=room_secret(channel_id), participant=state["user_id"])
        seated = janus.seat(room, feed=state["user_id"], display=str(state["user_id"]), token=room_token(channel_id))
    except JANUS_FAILURES as exc:
        _quietly(janus.remove_token, token)
        raise _unavailable(exc) from exc
    return {"url": public_url(), "room": room, "token": token, "feed": state["user_id"], **seated}


def unseat(state: dict, janus: Janus | None = None, *, kick: bool = True) -> None:
    """Take a participant out of Janus: their feed (and with it their subscriptions) unless
    `kick` is off, and their token. Raises JANUS_FAILURES."""
    janus = janus or Janus()
    if kick:
        janus.kick(room_id(state["channel_id"]), secret=room_secret(state["channel_id"]), participant=state["user_id"])
    janus.remove_token(token_for(state))


def revoke(state: dict) -> None:
    """A participant replaced by another session of theirs in the same room: their token goes (the
    new session's seat kicked their feed). Failures are logged."""
    if enabled():
        _quietly(unseat, state, kick=False)


def _open(channel_id: int, *, description: str = "") -> None:
    Janus().create(room_id(channel_id), secret=room_secret(channel_id), allowed=[room_token(channel_id)],
                   publishers=settings.JANUS_ROOM_PUBLISHERS, description=description)


def after_resize(guild_id: int, channel_id: int, room: list[dict], *, left: list[dict], joined: int,
                 answered: int | None = None) -> None:
    """A channel's participants changed: throw those who left out of its Janus room, and when the
    room crossed RTC_MESH_MAX tell everyone in it the new topology, with a seat of their own for
    "sfu" (but `answered`, the joiner whose join answer carries theirs). Back to a mesh, everyone
    leaves Janus and the room goes."""
    from apps.core.events import publish, user_group

    if not enabled():
        return
    janus, secret = Janus(), room_secret(channel_id)
    for state in left:
        _quietly(unseat, state, janus)
    before = len(room) + len(left) - joined
    now = topology(len(room))
    changed = bool(room) and now != topology(before)
    if changed and now == quality.SFU:
        _quietly(_open, channel_id)  # a join opened the room already; a moderator's move into it did not
    for state in room if changed else ():
        if state["user_id"] == answered:
            continue
        sfu = None
        if now == quality.SFU:
            try:
                sfu = seat(state, janus)
            except SfuUnavailable as exc:  # this one stays on the mesh; the call goes on
                log.warning("could not seat user %s in Janus room of channel %s: %s", state["user_id"], channel_id, exc)
        publish(user_group(state["user_id"]), ev.VOICE_TOPOLOGY_UPDATE, payloads.topology_update(state, now, sfu))
    if (left and not room) or (changed and now == quality.MESH):
        for state in room:
            _quietly(unseat, state, janus)
        _quietly(janus.destroy, room_id(channel_id), secret=secret)


def topology(participants: int) -> str:
    return quality.MESH if participants <= settings.RTC_MESH_MAX else quality.SFU


def _quietly(fn, *args, **kwargs) -> None:
    """Janus out of step is logged, not raised: the call goes on, and Janus forgets its rooms and
    tokens when it restarts anyway."""
    try:
        fn(*args, **kwargs)
    except JANUS_FAILURES as exc:
        log.warning("Janus: %s failed: %s", getattr(fn, "__name__", fn), exc)


def _unavailable(exc: SfuError | SfuUnavailable) -> SfuUnavailable:
    if isinstance(exc, SfuUnavailable):
        return exc
    log.warning("Janus refused: %s", exc)
    return SfuUnavailable(str(exc))
