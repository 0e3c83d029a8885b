"""The gateway's wire protocol: op codes, close codes, frame building and client-frame checks.

Every frame is JSON text `{"op": int, "d": ..., "s": int | null, "t": str | null}`; docs/gateway.md
is the written contract. Nothing here touches the database or the socket.
"""
from __future__ import annotations

import json
import logging
import time
from enum import IntEnum

from apps.core import unavailable, untrusted
from apps.core.converters import MAX_ID, is_id
from apps.core.errors import DomainError, MemberTimedOut, MissingPermission
from apps.guilds import events as guild_events

log = logging.getLogger(__name__)


class Op(IntEnum):
    DISPATCH = 0  # server → client: an event, with a sequence number
    HEARTBEAT = 1  # client → server: d = last sequence number seen, or null
    PRESENCE_UPDATE = 3  # client → server: {"status": "online" | "idle" | "dnd"}
    TYPING = 4  # client → server: {"channel_id"}
    SEND_MESSAGE = 6  # client → server: {"channel_id", "content", "nonce"?, "reply_to"?, "attachment_ids"?}
    ACK = 7  # client → server: {"channel_id", "message_id"}
    REQUEST_MEMBERS = 8  # client → server: {"guild_id"}; answered by GUILD_MEMBERS_CHUNK
    ERROR = 9  # server → client: {"code", "message", "ref"?, ...}
    HELLO = 10  # server → client, first frame: {"heartbeat_interval": ms}
    HEARTBEAT_ACK = 11  # server → client: answer to HEARTBEAT
    VOICE_STATE_UPDATE = 12  # client → server: {"guild_id", "channel_id" (null: leave), "self_mute"?, ...}
    VOICE_SIGNAL = 13  # client → server: {"to", "type", "sdp"? | "candidate"?}, for one peer in the room
    REQUEST_VOICE_STATES = 14  # client → server: {"guild_id"}; answered by VOICE_STATES
    LISTENING_PARTY = 15  # client → server: {"action", "track_id"?, "position_ms"?, "queue"?}, in the sender's room


class Close(IntEnum):
    FRAME_TOO_LARGE = 4002
    NOT_AUTHENTICATED = 4003
    RATE_LIMITED = 4008
    HEARTBEAT_TIMEOUT = 4009
    BANNED = 4010
    TOO_SLOW = 4011  # the client read too slowly: its backlog passed GATEWAY_MAX_BACKLOG frames
    RESUME = 4012  # the node lost events (its Redis connection dropped): reconnect and catch up
    TOO_MANY_CONNECTIONS = 4013  # the user already holds GATEWAY_MAX_SOCKETS_PER_USER sockets on this node


# Error codes the gateway itself emits (service errors keep their DomainError code).
DECODE_ERROR = "decode_error"
UNKNOWN_OP = "unknown_op"
INVALID_PAYLOAD = "invalid_payload"
FRAME_TOO_LARGE = "frame_too_large"
RATE_LIMITED = "rate_limited"
INTERNAL_ERROR = "internal_error"
UNKNOWN_GUILD = "unknown_guild"


class GatewayError(Exception):
    """A client frame the gateway refuses. With `close`, the socket is closed after the error frame."""

    def __init__(self, code: str, message: str, *, close: Close | None = None, **extra):
        super().__init__(message)
        self.code, self.message, self.close, self.extra = code, message, close, extra


# --- frames the server sends -----------------------------------------------------------------

def frame(op: Op, d=None, *, s: int | None = None, t: str | None = None) -> str:
    return json.dumps({"op": int(op), "d": d, "s": s, "t": t}, separators=(",", ":"))


def hello(heartbeat_interval_ms: int) -> str:
    return frame(Op.HELLO, {"heartbeat_interval": heartbeat_interval_ms})


def heartbeat_ack() -> str:
    return frame(Op.HEARTBEAT_ACK)


def dispatch(t: str, d: dict, s: int) -> str:
    return frame(Op.DISPATCH, d, s=s, t=t)


def error(code: str, message: str, *, ref=None, **extra) -> str:
    d = {"code": code, "message": message, **extra}
    if ref is not None:
        d["ref"] = ref
    return frame(Op.ERROR, d)


def gateway_error(exc: GatewayError, *, ref=None) -> str:
    return error(exc.code, exc.message, ref=ref, **exc.extra)


def unexpected_error(exc: Exception, *, op: int | None, ref=None) -> str:
    """The frame for an op that failed with something other than a domain error: `service_unavailable`
    (with `retry_after`) when a part it needs is down (apps/core/unavailable.py), else
    `internal_error`, logged with its traceback."""
    if (name := unavailable.dependency(exc)) is not None:
        return domain_error(unavailable.refused(exc, name), ref=ref)
    log.error("gateway op %s failed", op, exc_info=exc)
    return error(INTERNAL_ERROR, "Something went wrong.", ref=ref)


def ref_of(op: int | None, d) -> str | int | None:
    """What an error frame points at: the client's nonce when the frame has one, else its op."""
    if isinstance(d, dict) and isinstance(d.get("nonce"), str) and untrusted.is_storable(d["nonce"]):
        return d["nonce"]
    return op


def domain_error(exc: DomainError, *, ref=None) -> str:
    """The one socket shape of a service error: its code and message, plus what a client acts on."""
    extra = {}
    if exc.fields:
        extra["fields"] = exc.fields
    if getattr(exc, "retry_after", None):  # rate limited, or a part that is down
        extra["retry_after"] = exc.retry_after
    if isinstance(exc, MissingPermission):
        extra["permission"] = exc.permission
    if isinstance(exc, MemberTimedOut):
        extra["timed_out_until"] = exc.timed_out_until.isoformat()
    return error(exc.code, exc.message, ref=ref, **extra)


# --- frames the client sends -----------------------------------------------------------------

def check_size(text_data: str | None, bytes_data: bytes | None, max_bytes: int) -> None:
    if bytes_data is not None:
        size = len(bytes_data)
    else:
        # A character is 1 to 4 UTF-8 bytes: encode only when the length alone does not decide.
        size = len(text_data)
        if size <= max_bytes < 4 * size:
            size = len(text_data.encode())
    if size > max_bytes:
        raise GatewayError(FRAME_TOO_LARGE, f"Frames are at most {max_bytes} bytes.", close=Close.FRAME_TOO_LARGE)


def decode(text_data: str | None) -> tuple[int, object]:
    """(op, d) of a text frame; binary frames (text_data None) and JSON nested past
    untrusted.MAX_JSON_DEPTH (the decoder would recurse once per level) are refused."""
    if text_data is None:
        raise GatewayError(DECODE_ERROR, "Frames are JSON text, not binary.")
    try:
        data = untrusted.loads(text_data)
    except untrusted.TooDeep as exc:
        raise GatewayError(DECODE_ERROR, str(exc)) from None
    except ValueError:
        raise GatewayError(DECODE_ERROR, "The frame is not valid JSON.") from None
    if not isinstance(data, dict) or not _is_int(data.get("op")):
        raise GatewayError(DECODE_ERROR, 'A frame is an object with an integer "op".')
    return data["op"], data.get("d")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# PAYLOADS types of their own: an id past what an id column holds would reach a query SQLite
# refuses (an OverflowError) and PostgreSQL answers with nothing, so the frame is refused as mistyped.
ID, IDS = "id", "ids"
_TYPES = {int: ("an integer", _is_int), str: ("a string", lambda v: isinstance(v, str)),
          ID: (f"an id (a whole number from 0 to {MAX_ID})", is_id),
          IDS: (f"a list of ids (whole numbers from 0 to {MAX_ID})",
                lambda v: isinstance(v, list) and all(is_id(x) for x in v)),
          bool: ("true or false", lambda v: isinstance(v, bool)), dict: ("an object", lambda v: isinstance(v, dict))}

# op → {field: (type, required)}
PAYLOADS: dict[Op, dict[str, tuple[type | str, bool]]] = {
    Op.TYPING: {"channel_id": (ID, True)},
    Op.SEND_MESSAGE: {"channel_id": (ID, True), "content": (str, True), "nonce": (str, False),
                      "reply_to": (ID, False), "attachment_ids": (IDS, False)},
    Op.ACK: {"channel_id": (ID, True), "message_id": (ID, True)},
    Op.PRESENCE_UPDATE: {"status": (str, True)},
    Op.REQUEST_MEMBERS: {"guild_id": (ID, True)},
    Op.VOICE_STATE_UPDATE: {"guild_id": (ID, True), "channel_id": (ID, False), "self_mute": (bool, False),
                            "self_deaf": (bool, False), "self_video": (bool, False), "self_stream": (bool, False)},
    Op.VOICE_SIGNAL: {"to": (ID, True), "type": (str, True), "sdp": (str, False), "candidate": (dict, False)},
    Op.REQUEST_VOICE_STATES: {"guild_id": (ID, True)},
    Op.LISTENING_PARTY: {"action": (str, True), "track_id": (ID, False), "position_ms": (int, False),
                         "queue": (IDS, False), "nonce": (str, False)},
}


def payload(op: Op, d) -> dict:
    """The fields of a client op's `d`, type-checked (missing optional fields are None)."""
    spec = PAYLOADS[op]
    if not isinstance(d, dict):
        raise GatewayError(INVALID_PAYLOAD, '"d" must be an object.', field="d")
    # Anywhere in d, as a relayed value (a voice signal's candidate) is written to a socket or Redis too.
    where = untrusted.first_unstorable(d, root="d")
    if where is not None:
        raise GatewayError(INVALID_PAYLOAD, untrusted.unstorable_text_message(), field=where)
    out = {}
    for name, (kind, required) in spec.items():
        value = d.get(name)
        label, ok = _TYPES[kind]
        if value is None and not required:
            out[name] = None
        elif not ok(value):
            raise GatewayError(INVALID_PAYLOAD, f'"{name}" must be {label}.', field=name)
        else:
            out[name] = value
    return out


def heartbeat_seq(d) -> int | None:
    if d is not None and not _is_int(d):
        raise GatewayError(INVALID_PAYLOAD, '"d" must be the last sequence number or null.', field="d")
    return d


class FrameRateLimit:
    """`limit` client frames per `window` seconds: a burst of `limit`, then one every window/limit
    (the generic cell rate algorithm: one number per connection, however busy it is)."""

    __slots__ = ("limit", "window", "clock", "due")

    def __init__(self, limit: int, window: float, clock=time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self.due = 0.0  # when the frames accepted so far are paid for

    def hit(self) -> None:
        now = self.clock()
        due = max(self.due, now)
        step = self.window / self.limit
        if due - now > self.window - step:
            raise GatewayError(RATE_LIMITED, f"At most {self.limit} frames per {self.window} seconds.",
                               close=Close.RATE_LIMITED)
        self.due = due + step


# --- which guild and channel an event belongs to ------------------------------------------------

# These carry the guild as "id"; every other guild event carries "guild_id".
_GUILD_AS_ID = frozenset({guild_events.GUILD_CREATE, guild_events.GUILD_UPDATE, guild_events.GUILD_DELETE})


def event_guild_id(t: str, d: dict) -> int | None:
    return d.get("id") if t in _GUILD_AS_ID else d.get("guild_id")
