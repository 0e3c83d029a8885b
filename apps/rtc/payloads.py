"""The shapes voice sends: the voice events' data (events.py names them), the answers to the
gateway's voice ops and the voice REST answers, built here only. Documented by serializers.py; a
test checks what these functions build against /api/schema/ (docs/voice.md tells the flow)."""
from __future__ import annotations


def voice_state(state: dict, *, left: bool = False) -> dict:
    """Discord's voice state shape. `left`: the same participant, now in no channel."""
    return {
        "guild_id": state["guild_id"],
        "channel_id": None if left else state["channel_id"],
        "user_id": state["user_id"],
        "session_id": state["session_id"],
        "self_mute": state["self_mute"],
        "self_deaf": state["self_deaf"],
        "self_video": state["self_video"],
        "self_stream": state["self_stream"],
        "mute": state["mute"],
        "deaf": state["deaf"],
        "suppress": state.get("suppress", False),
    }


def voice_ready(*, state: dict, room: list[dict], topology: str, seat: dict | None, quality: dict,
                ice_servers: list[dict], ice_ttl: int, ice_transport_policy: str, party: dict | None,
                server_time: int) -> dict:
    """VOICE_READY, the answer to a join: the participant (`state`), the room, how to reach it
    (mesh or the SFU seat), ICE servers and TURN credentials, the ladder step and the party."""
    return {"guild_id": state["guild_id"], "channel_id": state["channel_id"], "session_id": state["session_id"],
            "topology": topology, "sfu": seat, "quality": quality, "ice_servers": ice_servers, "ice_ttl": ice_ttl,
            "ice_transport_policy": ice_transport_policy, "voice_states": [voice_state(s) for s in room],
            "self": voice_state(state), "listening_party": party, "server_time": server_time}


def voice_states(guild_id: int, states: list[dict]) -> dict:
    """VOICE_STATES, the answer to REQUEST_VOICE_STATES."""
    return {"guild_id": guild_id, "voice_states": [voice_state(s) for s in states]}


def signal(sender: dict, target: dict, kind: str, sdp: str | None, candidate: dict | None) -> dict:
    d = {"guild_id": sender["guild_id"], "channel_id": sender["channel_id"], "from": sender["user_id"],
         "from_session": sender["session_id"], "session_id": target["session_id"], "type": kind}
    if sdp is not None:
        d["sdp"] = sdp
    if candidate is not None:
        d["candidate"] = candidate
    return d


def quality_update(guild_id: int, channel_id: int, step: dict) -> dict:
    return {"guild_id": guild_id, "channel_id": channel_id, "quality": step}


def topology_update(state: dict, topology: str, sfu: dict | None) -> dict:
    return {"guild_id": state["guild_id"], "channel_id": state["channel_id"], "session_id": state["session_id"],
            "topology": topology, "sfu": sfu}


def ice_servers(servers: list[dict], ttl: int) -> dict:
    return {"ice_servers": servers, "ttl": ttl}


def party_track(track: dict) -> dict:
    """What a party shows of a track: the fields of its API shape (tracks.payloads.track_payload)
    that play it."""
    return {k: track[k] for k in ("id", "title", "duration_ms", "stream_url", "hls_url", "peaks_url")}


def party(channel, *, track: dict, queue: list[int], host_id: int, now: int) -> dict:
    """A new listening party, playing `track` (party_track) from 0; the store adds its version."""
    return {"guild_id": channel.guild_id, "channel_id": channel.id, "track_id": track["id"], "track": track,
            "queue": list(queue), "position_ms": 0, "updated_at": now, "playing": True, "host_id": host_id}


def party_update(guild_id: int, channel_id: int, party: dict | None, server_time: int) -> dict:
    """The party's whole state and the server's clock (ms since the epoch) when it was sent, from
    which a client computes where playback is now: position_ms + (now - updated_at) while playing."""
    return {"guild_id": guild_id, "channel_id": channel_id, "party": party, "server_time": server_time}


def party_sync(update: dict, nonce: str | None) -> dict:
    """The answer to a "sync": the update, with the request's nonce (the client times the round trip)."""
    return {**update, "nonce": nonce} if nonce else update
