"""Voice events: their names and payloads, in one place (docs/voice.md)."""
from __future__ import annotations

# To the guild group: a participant joined, changed a flag, moved or left (channel_id null).
# Connections relay it only if they can view the channel (a leave is guild-wide).
VOICE_STATE_UPDATE = "VOICE_STATE_UPDATE"
# To one user group, relayed only by the connection whose session is addressed (session_id).
VOICE_SIGNAL = "VOICE_SIGNAL"
# To the participants' user groups: the room's size changed, here is the new ladder step.
VOICE_QUALITY_UPDATE = "VOICE_QUALITY_UPDATE"
# To the participants' user groups, relayed only by the addressed session (it carries that session's
# Janus token): the room crossed RTC_MESH_MAX, browsers switch between the mesh and the SFU.
VOICE_TOPOLOGY_UPDATE = "VOICE_TOPOLOGY_UPDATE"
# Answers to the client's ops, sent to the asking connection only (not published).
VOICE_READY = "VOICE_READY"
VOICE_STATES = "VOICE_STATES"


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


# To the guild group, relayed by the connections that can view the voice channel: a listening
# party started, changed (play, pause, seek, next, new host) or ended (`party` null). Also the
# answer to op 15's "sync", sent to the asking connection only.
LISTENING_PARTY_UPDATE = "LISTENING_PARTY_UPDATE"


def party_update(guild_id: int, channel_id: int, party: dict | None, server_time: int) -> dict:
    """The party's whole state and the server's clock (ms since the epoch) when it was sent, from
    which a client computes where playback is now: position_ms + (now - updated_at) while playing."""
    return {"guild_id": guild_id, "channel_id": channel_id, "party": party, "server_time": server_time}
