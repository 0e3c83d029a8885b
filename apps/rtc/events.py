"""Voice events: their names and where they go (docs/voice.md). Their data is built in payloads.py
and documented by serializers.py's EVENT_SHAPES."""
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
# To the guild group, relayed by the connections that can view the voice channel: a listening
# party started, changed (play, pause, seek, next, new host) or ended (`party` null). Also the
# answer to op 15's "sync", sent to the asking connection only.
LISTENING_PARTY_UPDATE = "LISTENING_PARTY_UPDATE"

# The events this app sends (the registry docs/gateway.md and /api/schema/ are checked against).
EVENTS = (VOICE_STATE_UPDATE, VOICE_SIGNAL, VOICE_QUALITY_UPDATE, VOICE_TOPOLOGY_UPDATE, VOICE_READY, VOICE_STATES,
          LISTENING_PARTY_UPDATE)
