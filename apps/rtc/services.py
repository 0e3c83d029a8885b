"""Every change to voice state: join, leave, flags, signaling, and moderation in rooms.

The state lives in Redis (store.py), not in the database: it is as ephemeral as a socket. Each
service checks permission through the one engine (apps.guilds.selectors), writes the store, then
publishes what changed through apps.core.events.publish. A gateway connection owns its
participant (its session id): the connection's heartbeats keep the entry alive and its end
removes it, so a participant never outlives the socket that joined.
"""
from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext

from apps.core.errors import MissingPermission, NotFound
from apps.core.events import guild_group, publish, user_group
from apps.guilds.models import Channel
from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_channel
from apps.guilds.services import record_audit
from apps.tracks.payloads import track_payload
from apps.tracks.selectors import playable_track

from . import events as ev
from . import payloads, quality, sfu, turn
from .errors import (
    ChannelFull,
    InvalidPartyRequest,
    InvalidSignal,
    NoParty,
    NotInRoom,
    NotVoiceChannel,
    PartyActive,
    SfuUnavailable,
    SignalTooLarge,
    TrackNotShared,
)
from .store import Result, store

FLAGS = ("self_mute", "self_deaf", "self_video", "self_stream")
SIGNAL_TYPES = ("offer", "answer", "candidate")
CANDIDATE_FIELDS = {"candidate": str, "sdpMid": str, "sdpMLineIndex": int, "usernameFragment": str}
MAX_CANDIDATE_CHARS = 1024


def voice_ttl() -> float:
    """How long a participant outlives its connection's last heartbeat: past the gateway
    watchdog's deadline, which ends the connection (and so the participant) first."""
    return settings.GATEWAY_HEARTBEAT_INTERVAL_MS / 1000 * settings.GATEWAY_HEARTBEAT_GRACE + 5


# --- joining, leaving, flags ---------------------------------------------------------------------

def set_voice_state(*, user, session_id: str, guild_id: int, channel_id: int | None, **flags) -> dict | None:
    """The gateway's VOICE_STATE_UPDATE op: leave (no channel), change this session's flags (its
    current channel), or join a channel (returns the join answer)."""
    if channel_id is None:
        leave_voice(user=user, session_id=session_id, guild_id=guild_id)
        return None
    current = _own_state(guild_id, user.id, session_id)
    if current is not None and current["channel_id"] == channel_id:
        update_voice_flags(user=user, session_id=session_id, guild_id=guild_id, **flags)
        return None
    return join_voice(user=user, session_id=session_id, channel_id=channel_id, guild_id=guild_id,
                      **{k: bool(v) for k, v in flags.items() if k in FLAGS})


def join_voice(*, user, session_id: str, channel_id: int, guild_id: int | None = None, self_mute: bool = False,
               self_deaf: bool = False, self_video: bool = False, self_stream: bool = False) -> dict:
    """Enter a voice channel from one gateway connection (session), leaving any other room the user
    is in. Returns the join answer: the participant, the room, ICE servers and the ladder step."""
    access = _voice_access(user, channel_id)
    if guild_id is not None and access.channel.guild_id != guild_id:
        raise NotVoiceChannel(gettext("That is not a voice channel of this guild."), fields={"channel_id": ["invalid"]})
    access.require(Permission.CONNECT)
    channel = access.channel
    if (self_video or self_stream) and not access.permissions & Permission.STREAM:
        self_video = self_stream = False  # camera and screen need STREAM; the call goes on without them
    elsewhere = store().guild_of(user.id)
    state = {"guild_id": channel.guild_id, "channel_id": channel.id, "user_id": user.id, "session_id": session_id,
             "self_mute": self_mute, "self_deaf": self_deaf, "self_video": self_video, "self_stream": self_stream,
             "mute": False, "deaf": False, "suppress": not access.permissions & Permission.SPEAK,
             "joined_at": now_ms()}
    if sfu.enabled():
        others = [s for s in store().states(channel.guild_id)
                  if s["channel_id"] == channel.id and s["user_id"] != user.id]
        if quality.topology_for(len(others) + 1) == quality.SFU:
            sfu.admit(channel)  # before entering: a Janus that does not answer refuses the join
    result = _enter(channel, state, answered=True)
    if elsewhere is not None and elsewhere != channel.guild_id:
        # Only once the new room took them: a refused join leaves the user where they were.
        _announce(store().leave(elsewhere, user.id))
    room = [s for s in store().states(channel.guild_id) if s["channel_id"] == channel.id]
    topology = quality.topology_for(len(room))
    seat = None
    if topology == quality.SFU:
        try:
            seat = sfu.seat(result.state)
        except SfuUnavailable:
            leave_voice(user=user, session_id=session_id, guild_id=channel.guild_id)
            raise
    return payloads.voice_ready(state=result.state, room=room, topology=topology, seat=seat,
                                quality=quality.step_for(len(room)), ice_servers=turn.ice_servers(user.id),
                                ice_ttl=settings.TURN_TTL, ice_transport_policy=settings.RTC_ICE_TRANSPORT_POLICY,
                                party=_settled(store().party(channel.guild_id, channel.id), now_ms()),
                                server_time=now_ms())


def update_voice_flags(*, user, session_id: str, guild_id: int, **flags) -> dict:
    """Change this session's own mute, deafen, camera or screen flags. Turning the camera or the
    screen share on needs STREAM in the channel (refused without it, nothing changed)."""
    changes = {k: bool(v) for k, v in flags.items() if k in FLAGS and v is not None}
    current = _own_state(guild_id, user.id, session_id)
    if current is None:
        raise NotInRoom(gettext("You are not in a voice channel."))
    if changes.get("self_video") or changes.get("self_stream"):
        access = access_channel(user, current["channel_id"])
        if not access.permissions & Permission.STREAM:
            if any(changes.get(k) and not current[k] for k in ("self_video", "self_stream")):
                # Turning one on is refused outright, so the browser stops what it captured and says why.
                raise MissingPermission(Permission.STREAM.name, gettext(
                    "You need the STREAM permission in this channel to turn on your camera or share your screen."))
            changes["self_video"] = changes["self_stream"] = False  # on from before STREAM was lost: now off
    result = store().update(guild_id, user.id, changes, voice_ttl(), session=session_id)
    if not result.ok:
        raise NotInRoom(gettext("You are not in a voice channel."))
    _announce(result)
    return payloads.voice_state(result.state)


def leave_voice(*, user, session_id: str, guild_id: int) -> bool:
    """Leave the room this session is in (nothing if it is in none: another tab took over, or a
    moderator disconnected it)."""
    result = store().leave(guild_id, user.id, session=session_id)
    _announce(result)
    return result.ok


def recheck_voice(*, user, session_id: str, guild_id: int) -> bool:
    """After a permission, role or member change: a participant who can no longer connect to their
    channel (CONNECT or VIEW_CHANNEL lost, timed out, left the guild) leaves it. True if still in."""
    current = _own_state(guild_id, user.id, session_id)
    if current is None:
        return False
    try:
        access_channel(user, current["channel_id"]).require(Permission.CONNECT)
    except (NotFound, MissingPermission):
        leave_voice(user=user, session_id=session_id, guild_id=guild_id)
        return False
    return True


def ice_servers_for(*, user) -> dict:
    """Fresh ICE servers (TURN credentials valid TURN_TTL seconds) for a user who is in a voice
    channel now and may still connect there: the relay serves calls, not any account. The browser
    renews them while the call lasts, so a credential outlives its call by at most TURN_TTL."""
    guild_id = store().guild_of(user.id)
    state = store().get(guild_id, [user.id]).get(user.id) if guild_id is not None else None
    if state is None:
        raise NotInRoom(gettext("You are not in a voice channel."))
    access_channel(user, state["channel_id"]).require(Permission.CONNECT)  # not banned, timed out or kicked
    return payloads.ice_servers(turn.ice_servers(user.id), settings.TURN_TTL)


def refresh_voice(*, user, session_id: str, guild_id: int) -> bool:
    """Keep this session's participant alive (a heartbeat); False if it is gone."""
    result = store().update(guild_id, user.id, {}, voice_ttl(), session=session_id)
    _announce(result, changed=False)
    return result.ok


# --- signaling -------------------------------------------------------------------------------------

def relay_signal(*, user, session_id: str, guild_id: int, to: int, kind: str, sdp=None, candidate=None) -> None:
    """Hand an offer, answer or ICE candidate to one other participant of the sender's room, on the
    connection that joined (never a broadcast). Both must be in the room and the sender must still
    have CONNECT there."""
    _check_signal(kind, sdp, candidate)
    if guild_id is None:
        raise NotInRoom(gettext("You are not in a voice channel."))
    room = store().get(guild_id, [user.id, to])
    sender = room.get(user.id)
    if sender is None or sender["session_id"] != session_id:
        raise NotInRoom(gettext("You are not in a voice channel."))
    target = room.get(to)
    if target is None or target["channel_id"] != sender["channel_id"] or to == user.id:
        raise NotInRoom(gettext("That member is not in your voice channel."), fields={"to": ["not_in_voice"]})
    access_channel(user, sender["channel_id"]).require(Permission.CONNECT)
    publish(user_group(to), ev.VOICE_SIGNAL, payloads.signal(sender, target, kind, sdp, candidate))


def _check_signal(kind, sdp, candidate) -> None:
    if kind not in SIGNAL_TYPES:
        raise InvalidSignal(gettext('"type" must be offer, answer or candidate.'), fields={"type": ["invalid"]})
    if kind == "candidate":
        if not isinstance(candidate, dict) or not isinstance(candidate.get("candidate"), str):
            raise InvalidSignal(gettext('A candidate signal carries a "candidate" object.'),
                                fields={"candidate": ["invalid"]})
        for key, value in candidate.items():
            kind_of = CANDIDATE_FIELDS.get(key)
            if kind_of is None or not (value is None or (isinstance(value, kind_of) and not isinstance(value, bool))):
                raise InvalidSignal(gettext("The candidate has an unknown or mistyped field."),
                                    fields={"candidate": [key]})
        if len(candidate["candidate"]) > MAX_CANDIDATE_CHARS:
            raise SignalTooLarge(gettext("The candidate is too large."), fields={"candidate": ["too_large"]})
        return
    if not isinstance(sdp, str) or not sdp:
        raise InvalidSignal(gettext('An offer or answer carries an "sdp" string.'), fields={"sdp": ["invalid"]})
    if len(sdp.encode()) > settings.RTC_MAX_SDP_BYTES:
        raise SignalTooLarge(gettext("The session description is larger than %(limit)s bytes.")
                             % {"limit": settings.RTC_MAX_SDP_BYTES}, fields={"sdp": ["too_large"]})


# --- moderation ------------------------------------------------------------------------------------

def server_mute(*, actor, guild_id: int, user_id: int, mute: bool) -> dict:
    """Mute (or unmute) a participant for everyone (MUTE_MEMBERS in their channel)."""
    return _moderate(actor, guild_id, user_id, Permission.MUTE_MEMBERS, {"mute": bool(mute)})


def server_deafen(*, actor, guild_id: int, user_id: int, deaf: bool) -> dict:
    """Deafen (or undeafen) a participant (DEAFEN_MEMBERS in their channel)."""
    return _moderate(actor, guild_id, user_id, Permission.DEAFEN_MEMBERS, {"deaf": bool(deaf)})


def move_member(*, actor, guild_id: int, user_id: int, channel_id: int) -> dict:
    """Move a participant to another voice channel of the guild (MOVE_MEMBERS in both)."""
    state = _participant(guild_id, user_id)
    source = access_channel(actor, state["channel_id"])
    source.require(Permission.MOVE_MEMBERS)
    dest = _voice_access(actor, channel_id)
    if dest.channel.guild_id != guild_id:
        raise NotVoiceChannel(gettext("That is not a voice channel of this guild."), fields={"channel_id": ["invalid"]})
    dest.require(Permission.MOVE_MEMBERS)
    if dest.channel.id == state["channel_id"]:
        return payloads.voice_state(state)
    moved = {**state, "channel_id": dest.channel.id, "joined_at": now_ms()}
    result = _enter(dest.channel, moved)
    _audit(actor, "voice_move", source.channel, user_id, {"to_channel_id": dest.channel.id,
                                                          "to_channel": dest.channel.name})
    return payloads.voice_state(result.state)


def disconnect_member(*, actor, guild_id: int, user_id: int) -> None:
    """Take a participant out of their room (MOVE_MEMBERS); their browser leaves the call."""
    state = _participant(guild_id, user_id)
    access = access_channel(actor, state["channel_id"])
    access.require(Permission.MOVE_MEMBERS)
    result = store().leave(guild_id, user_id)
    _announce(result)
    if result.ok:
        _audit(actor, "voice_disconnect", access.channel, user_id, {})


_AUDITED = {("mute", True): "voice_mute", ("mute", False): "voice_unmute",
            ("deaf", True): "voice_deafen", ("deaf", False): "voice_undeafen"}


def _moderate(actor, guild_id: int, user_id: int, permission: Permission, changes: dict) -> dict:
    state = _participant(guild_id, user_id)
    access = access_channel(actor, state["channel_id"])
    access.require(permission)
    result = store().update(guild_id, user_id, changes, voice_ttl(), session=state["session_id"])
    if not result.ok:
        raise NotInRoom(gettext("That member is not in a voice channel."))
    _announce(result)
    for key, value in changes.items():
        if result.old is not None and result.old[key] != value:
            _audit(actor, _AUDITED[key, value], access.channel, user_id, {})
    return payloads.voice_state(result.state)


def _audit(actor, action: str, channel: Channel, user_id: int, changes: dict) -> None:
    """A moderator's act on someone else in a room, in the guild's audit log (about the channel
    they were in, which says who may read of it). Acting on oneself is not moderating."""
    if user_id == actor.id:
        return
    username = get_user_model().objects.filter(pk=user_id).values_list("username", flat=True).first()
    record_audit(channel.guild, actor, action, target=channel, changes={
        "user_id": user_id, "username": username, "channel_id": channel.id, "channel": channel.name, **changes})


# --- reads -------------------------------------------------------------------------------------------

def voice_states(*, guild_id: int, channel_ids) -> dict:
    """VOICE_STATES: the guild's participants in the given channels (those a connection can view)."""
    return payloads.voice_states(guild_id, [s for s in store().states(guild_id) if s["channel_id"] in channel_ids])


# --- listening parties -------------------------------------------------------------------------------
# One per voice channel, in the store beside the room's voice state, so that any node serves it.
# The server keeps where playback was at `updated_at` (its own clock, ms since the epoch) and
# whether it plays; each client computes the position from that and the server time every update
# carries. A write reads the party, changes it and swaps it in only if no other write came first.

PARTY_ACTIONS = ("start", "play", "pause", "seek", "next", "stop", "sync", "ended")
# How early an "ended" report may come: the audio file can be a little shorter than duration_ms and
# a page's clock a little ahead of the server's.
PARTY_ENDED_SLACK_MS = 1500
PARTY_QUEUE_MAX = 50
# Besides the host, who may control a party: a room moderator (the one who may also move and
# disconnect its participants), not whoever may edit the channel.
PARTY_MODERATOR = Permission.MOVE_MEMBERS
_UNCHANGED = object()


def now_ms() -> int:
    return int(time.time() * 1000)


def listening_party(*, user, session_id: str, guild_id: int | None, action: str, track_id: int | None = None,
                    position_ms: int | None = None, queue: list[int] | None = None) -> dict:
    """The gateway's LISTENING_PARTY op from a participant of a room: start a party in it
    (START_LISTENING_PARTY, a track of the guild), control it (its host, or PARTY_MODERATOR), or
    read it ("sync"). Returns the update: the one published to the room, or the current state."""
    if action not in PARTY_ACTIONS:
        raise InvalidPartyRequest(gettext('"action" must be one of %(actions)s.')
                                  % {"actions": ", ".join(PARTY_ACTIONS)}, fields={"action": ["invalid"]})
    me = _own_state(guild_id, user.id, session_id) if guild_id is not None else None
    if me is None:
        raise NotInRoom(gettext("You are not in a voice channel."))
    channel_id = me["channel_id"]
    if action == "sync":
        now = now_ms()
        return payloads.party_update(guild_id, channel_id, _settled(store().party(guild_id, channel_id), now), now)
    if action == "ended":
        return end_of_party_track(user=user, access=access_channel(user, channel_id), track_id=track_id)
    access = access_channel(user, channel_id)
    if action == "start":
        return start_listening_party(user=user, access=access, track_id=track_id, queue=queue or [])
    return control_listening_party(user=user, access=access, action=action, position_ms=position_ms)


def start_listening_party(*, user, access, track_id: int | None, queue: list[int]) -> dict:
    """A party on a track every participant can read (one of the channel's guild), playing from 0."""
    access.require(Permission.START_LISTENING_PARTY)
    channel = access.channel
    if track_id is None:
        raise InvalidPartyRequest(gettext("Pick a track to play."), fields={"track_id": ["required"]})
    if len(queue) > PARTY_QUEUE_MAX:
        raise InvalidPartyRequest(gettext("A queue has at most %(n)s tracks.") % {"n": PARTY_QUEUE_MAX},
                                  fields={"queue": ["too_long"]})
    track = _party_track(user, channel, track_id)
    for queued in queue:
        _party_track(user, channel, queued, field="queue")

    def change(party, now):
        if party is not None:
            raise PartyActive(gettext("A listening party is already on in this room."))
        return payloads.party(channel, track=track, queue=queue, host_id=user.id, now=now)

    return _write_party(channel.guild_id, channel.id, change)


def control_listening_party(*, user, access, action: str, position_ms: int | None = None) -> dict:
    """Play, pause, seek (within the track), next (the queue's first track) or stop the room's party:
    its host, or a member with PARTY_MODERATOR in the channel."""
    channel = access.channel
    if action == "seek" and position_ms is None:
        raise InvalidPartyRequest(gettext("Say where to seek to."), fields={"position_ms": ["required"]})
    controlled = {}  # the party as the write that went through found it

    def change(party, now):
        if party is None:
            raise NoParty(gettext("There is no listening party in this room."))
        if party["host_id"] != user.id and not access.permissions & PARTY_MODERATOR:
            raise MissingPermission(PARTY_MODERATOR.name,
                                    gettext("Only the party's host or a member who can move members controls it."))
        controlled["party"] = party
        duration = party["track"]["duration_ms"]
        if action == "play":
            return {**party, "playing": True, "position_ms": 0 if party["position_ms"] >= duration
                    else party["position_ms"]}
        if action == "pause":
            return {**party, "playing": False}
        if action == "seek":
            if not 0 <= position_ms <= duration:
                raise InvalidPartyRequest(
                    gettext("The position must be between 0 and the track's length (%(ms)s ms).") % {"ms": duration},
                    fields={"position_ms": ["out_of_range"]})
            return {**party, "position_ms": position_ms}
        if action == "next":
            if not party["queue"]:
                raise InvalidPartyRequest(gettext("The queue is empty."), fields={"queue": ["empty"]})
            track = _party_track(user, channel, party["queue"][0], field="queue")
            return {**party, "track_id": track["id"], "track": track, "queue": party["queue"][1:],
                    "position_ms": 0, "playing": True}
        return None  # stop

    update = _write_party(channel.guild_id, channel.id, change)
    party = controlled["party"]
    # A moderator controlling someone else's party: audited (_audit leaves out the host's own acts).
    _audit(user, "listening_party_control", channel, party["host_id"],
           {"action": action, "track_id": party["track_id"], "track": party["track"]["title"]})
    return update


def end_of_party_track(*, user, access, track_id: int | None) -> dict:
    """A participant's page says `track_id` finished: the party moves to the queue's next track, for
    everyone, whoever's page said it first (the host's may be asleep in a background tab). Any
    participant may say it, since it only does what the clock already says: a report for another
    track, or before the track's end, changes nothing, so every page that saw the end may report it."""
    if track_id is None:
        raise InvalidPartyRequest(gettext("Say which track ended."), fields={"track_id": ["required"]})
    channel = access.channel

    def change(party, now):
        if (party is None or party["track_id"] != track_id or not party["queue"]
                or party["position_ms"] < party["track"]["duration_ms"] - PARTY_ENDED_SLACK_MS):
            return _UNCHANGED
        track = _party_track(user, channel, party["queue"][0], field="queue")
        return {**party, "track_id": track["id"], "track": track, "queue": party["queue"][1:],
                "position_ms": 0, "playing": True}

    return _write_party(channel.guild_id, channel.id, change)


def _follow_room(guild_id: int, channel_id: int, room: list[dict]) -> None:
    """The room's participants changed: its party ends when the room empties, and passes to the
    participant present the longest when its host left."""
    if store().party(guild_id, channel_id) is None:
        return
    present = {s["user_id"] for s in room}

    def change(party, now):
        if party is None or (room and party["host_id"] in present):
            return _UNCHANGED
        if not room:
            return None
        host = min(room, key=lambda s: (s.get("joined_at", 0), s["user_id"]))
        return {**party, "host_id": host["user_id"]}

    _write_party(guild_id, channel_id, change)


def _party_track(user, channel: Channel, track_id: int, *, field: str = "track_id") -> dict:
    track = playable_track(user, track_id)
    # Everyone in the room must be able to hear it: a track of the room's guild, or a public one.
    public = track.audience == track.Audience.PUBLIC and track.visibility == track.Visibility.VISIBLE
    if track.guild_id != channel.guild_id and not public:
        raise TrackNotShared(gettext("Pick one of this guild's tracks: everyone in the room must be able to hear it."),
                             fields={field: ["not_in_guild"]})
    return payloads.party_track(track_payload(track))


def _settled(party: dict | None, now: int) -> dict | None:
    """The party as of `now`: its position then, and paused at the end once the track is over."""
    if party is None:
        return None
    position = party["position_ms"]
    if party["playing"]:
        position += max(0, now - party["updated_at"])
    duration = party["track"]["duration_ms"]
    return {**party, "position_ms": min(position, duration), "updated_at": now,
            "playing": party["playing"] and position < duration}


def _write_party(guild_id: int, channel_id: int, change) -> dict | None:
    """Apply `change(party as of now, now)` → the new party, None to end it, or _UNCHANGED; retried
    when another write came in between. Publishes and returns the update."""
    for _ in range(10):
        read = store().party(guild_id, channel_id)
        now = now_ms()
        new = change(_settled(read, now), now)
        if new is _UNCHANGED:
            return payloads.party_update(guild_id, channel_id, _settled(read, now), now)
        version = read["version"] if read else 0
        if new is not None:
            new = {**new, "updated_at": now, "version": version + 1}
        if store().swap_party(guild_id, channel_id, version, new):
            update = payloads.party_update(guild_id, channel_id, new, now)
            publish(guild_group(guild_id), ev.LISTENING_PARTY_UPDATE, update)
            return update
    raise PartyActive(gettext("The party changed at the same moment. Try again."))


# --- helpers -----------------------------------------------------------------------------------------

def _voice_access(user, channel_id: int):
    access = access_channel(user, channel_id)
    if access.channel.type != Channel.Type.VOICE:
        raise NotVoiceChannel(gettext("That is not a voice channel."), fields={"channel_id": ["not_voice"]})
    return access


def _enter(channel: Channel, state: dict, *, answered: bool = False) -> Result:
    """Put the participant in the channel if there is room, keeping their server mute and deafen
    when they move within the guild; announces the change (`answered`: the join's answer tells
    the participant the room's topology, no event needs to)."""
    limit = channel.user_limit
    mesh = 0 if settings.JANUS_URL else settings.RTC_MESH_MAX
    capacity = min([c for c in (limit, mesh) if c] or [0])
    result = store().join(state, capacity, voice_ttl())
    if not result.ok:
        _announce(result, changed=False)
        if limit and result.count >= limit:
            raise ChannelFull(gettext("This voice channel is full."))
        quality.topology_for(result.count + 1)  # raises: no SFU for a room this size
        raise ChannelFull(gettext("This voice channel is full."))
    old = result.old
    if old and old["channel_id"] == channel.id and sfu.token_for(old) != sfu.token_for(state):
        sfu.revoke(old)  # another tab took over the call: the old one's Janus token goes
    if old and (old["mute"] or old["deaf"]) and not (state["mute"] or state["deaf"]):
        result = store().update(channel.guild_id, state["user_id"], {"mute": old["mute"], "deaf": old["deaf"]},
                                voice_ttl(), session=state["session_id"])
    _announce(result, answered=state["user_id"] if answered else None)
    return result


def _announce(result: Result, *, changed: bool = True, answered: int | None = None) -> None:
    """Publish what a store write changed: expired participants gone, this participant's new state
    (or its leave), and the new ladder step of each room whose size changed (`answered`: see
    sfu.after_resize)."""
    resized: set[tuple[int, int]] = set()
    left: list[dict] = []  # participants who left a channel, for the SFU
    for gone in result.dropped:
        publish(guild_group(gone["guild_id"]), ev.VOICE_STATE_UPDATE, payloads.voice_state(gone, left=True))
        resized.add((gone["guild_id"], gone["channel_id"]))
        left.append(gone)
    if changed and result.ok:
        old, new = result.old, result.state
        if new is None:
            publish(guild_group(old["guild_id"]), ev.VOICE_STATE_UPDATE, payloads.voice_state(old, left=True))
        else:
            publish(guild_group(new["guild_id"]), ev.VOICE_STATE_UPDATE, payloads.voice_state(new))
        for s in (old, new):
            if s is not None and (old is None or new is None or old["channel_id"] != new["channel_id"]):
                resized.add((s["guild_id"], s["channel_id"]))
                if s is old:
                    left.append(old)
    for guild_id, channel_id in resized:
        room = [s for s in store().states(guild_id) if s["channel_id"] == channel_id]
        if room:
            publish([user_group(s["user_id"]) for s in room], ev.VOICE_QUALITY_UPDATE,
                    payloads.quality_update(guild_id, channel_id, quality.step_for(len(room))))
        joined = int(changed and result.ok and result.state is not None and result.state["channel_id"] == channel_id)
        sfu.after_resize(guild_id, channel_id, room, joined=joined, answered=answered,
                         left=[s for s in left if (s["guild_id"], s["channel_id"]) == (guild_id, channel_id)])
        _follow_room(guild_id, channel_id, room)


def _participant(guild_id: int, user_id: int) -> dict:
    state = store().get(guild_id, [user_id]).get(user_id)
    if state is None:
        raise NotInRoom(gettext("That member is not in a voice channel."))
    return state


def _own_state(guild_id: int, user_id: int, session_id: str) -> dict | None:
    state = store().get(guild_id, [user_id]).get(user_id)
    return state if state is not None and state["session_id"] == session_id else None
