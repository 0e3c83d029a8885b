"""Output shapes of voice, for the OpenAPI schema: the voice REST answers and the voice events' data
(docs/voice.md tells the flow). Built by payloads.py; tests/integration/test_payloads.py checks them."""
from rest_framework import serializers

from apps.core.fields import StrictCharField

from . import events


class IceServersOut(serializers.Serializer):
    ice_servers = serializers.ListField(child=serializers.DictField())
    ttl = serializers.IntegerField()


class VoiceStateOut(serializers.Serializer):
    """A participant of a voice channel (Discord's voice state); VOICE_STATE_UPDATE carries one,
    with `channel_id` null when they left."""

    guild_id = serializers.IntegerField()
    channel_id = serializers.IntegerField(allow_null=True)
    user_id = serializers.IntegerField()
    session_id = StrictCharField()
    self_mute = serializers.BooleanField()
    self_deaf = serializers.BooleanField()
    self_video = serializers.BooleanField()
    self_stream = serializers.BooleanField()
    mute = serializers.BooleanField()
    deaf = serializers.BooleanField()
    suppress = serializers.BooleanField()


class QualityOut(serializers.Serializer):
    """The room's ladder step: the caps every participant applies to what it sends."""

    participants = serializers.IntegerField()
    max_bitrate = serializers.IntegerField(help_text="Video, bits per second.")
    max_height = serializers.IntegerField()
    max_framerate = serializers.IntegerField()
    audio_bitrate = serializers.IntegerField()


class SfuSeatOut(serializers.Serializer):
    """The Janus seat Django opened for this participant (docs/voice.md)."""

    url = StrictCharField()
    room = serializers.IntegerField()
    token = StrictCharField()
    feed = serializers.IntegerField()
    session = serializers.IntegerField()
    handle = serializers.IntegerField()
    private_id = serializers.IntegerField()


class PartyTrackOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = StrictCharField()
    duration_ms = serializers.IntegerField(allow_null=True)
    stream_url = StrictCharField(allow_null=True)
    hls_url = StrictCharField(allow_null=True)
    peaks_url = StrictCharField(allow_null=True)


class PartyOut(serializers.Serializer):
    """A voice channel's listening party: where playback was at `updated_at` (the server's clock,
    ms since the epoch) and whether it plays."""

    guild_id = serializers.IntegerField()
    channel_id = serializers.IntegerField()
    track_id = serializers.IntegerField()
    track = PartyTrackOut()
    queue = serializers.ListField(child=serializers.IntegerField())
    position_ms = serializers.IntegerField()
    updated_at = serializers.IntegerField()
    playing = serializers.BooleanField()
    host_id = serializers.IntegerField()
    version = serializers.IntegerField()


class VoiceReadyEventOut(serializers.Serializer):
    """VOICE_READY, the answer to a join (op 12), to the joining connection."""

    guild_id = serializers.IntegerField()
    channel_id = serializers.IntegerField()
    session_id = StrictCharField()
    topology = StrictCharField(help_text="mesh or sfu.")
    sfu = SfuSeatOut(allow_null=True)
    quality = QualityOut()
    ice_servers = serializers.ListField(child=serializers.DictField())
    ice_ttl = serializers.IntegerField(help_text="Seconds the TURN credentials last; renew them with "
                                       "GET /api/rtc/ice-servers while in the call.")
    ice_transport_policy = StrictCharField(help_text="all or relay.")
    voice_states = VoiceStateOut(many=True)
    self = VoiceStateOut()
    listening_party = PartyOut(allow_null=True)
    server_time = serializers.IntegerField(help_text="The server's clock, ms since the epoch.")


class VoiceStatesEventOut(serializers.Serializer):
    """VOICE_STATES, the answer to REQUEST_VOICE_STATES (op 14): only channels the connection can view."""

    guild_id = serializers.IntegerField()
    voice_states = VoiceStateOut(many=True)


# "from" is a Python keyword: the class is built from a dict of its fields.
VoiceSignalEventOut = type("VoiceSignalEventOut", (serializers.Serializer,), {
    "__doc__": "VOICE_SIGNAL, relayed to the addressed participant's joined connection only.",
    "__module__": __name__,
    "guild_id": serializers.IntegerField(),
    "channel_id": serializers.IntegerField(),
    "from": serializers.IntegerField(help_text="The sender's user id."),
    "from_session": StrictCharField(),
    "session_id": StrictCharField(help_text="The addressed session."),
    "type": StrictCharField(help_text="offer, answer or candidate."),
    "sdp": StrictCharField(required=False),
    "candidate": serializers.DictField(required=False),
})


class QualityUpdateEventOut(serializers.Serializer):
    guild_id = serializers.IntegerField()
    channel_id = serializers.IntegerField()
    quality = QualityOut()


class TopologyUpdateEventOut(serializers.Serializer):
    guild_id = serializers.IntegerField()
    channel_id = serializers.IntegerField()
    session_id = StrictCharField()
    topology = StrictCharField(help_text="mesh or sfu.")
    sfu = SfuSeatOut(allow_null=True)


class PartyUpdateEventOut(serializers.Serializer):
    """LISTENING_PARTY_UPDATE: the party's whole state (null: it ended) and the server's clock."""

    guild_id = serializers.IntegerField()
    channel_id = serializers.IntegerField()
    party = PartyOut(allow_null=True)
    server_time = serializers.IntegerField(help_text="The server's clock, ms since the epoch.")
    nonce = StrictCharField(required=False, help_text="Only in the answer to a \"sync\": its nonce.")


# The gateway events of voice, each with the serializer that documents its `d` (in /api/schema/
# under x-gateway-events; tests/integration/test_payloads.py checks real events against them).
EVENT_SHAPES = {
    events.VOICE_STATE_UPDATE: VoiceStateOut,
    events.VOICE_READY: VoiceReadyEventOut,
    events.VOICE_STATES: VoiceStatesEventOut,
    events.VOICE_SIGNAL: VoiceSignalEventOut,
    events.VOICE_QUALITY_UPDATE: QualityUpdateEventOut,
    events.VOICE_TOPOLOGY_UPDATE: TopologyUpdateEventOut,
    events.LISTENING_PARTY_UPDATE: PartyUpdateEventOut,
}
