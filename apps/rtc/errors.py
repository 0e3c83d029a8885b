"""The voice domain's errors: each code reaches the client in an error frame or a 4xx body."""
from __future__ import annotations

from apps.core.errors import Conflict, DomainError, PayloadTooLarge


class ChannelFull(Conflict):
    code = "voice_channel_full"


class SfuUnavailable(Conflict):
    code = "sfu_unavailable"


class NotInRoom(DomainError):
    status = 409
    code = "not_in_voice"


class NotVoiceChannel(DomainError):
    code = "not_voice_channel"


class SignalTooLarge(PayloadTooLarge):
    code = "payload_too_large"


class InvalidSignal(DomainError):
    code = "invalid_signal"


class SfuError(DomainError):
    """The media server refused a request Django made (not a user's mistake)."""
    status = 502
    code = "sfu_error"


# What a request to Janus may raise: it refused (SfuError), or it did not answer (SfuUnavailable).
JANUS_FAILURES = (SfuError, SfuUnavailable)


class NoParty(DomainError):
    status = 409
    code = "no_listening_party"


class PartyActive(Conflict):
    code = "listening_party_active"


class InvalidPartyRequest(DomainError):
    code = "invalid_party_request"


class TrackNotShared(DomainError):
    code = "track_not_in_guild"
