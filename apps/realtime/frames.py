"""WebSocket text frames as a server writes them without a compression extension: a 2-, 4- or 10-byte
header and the UTF-8 bytes as they are (RFC 6455 5.2; a server never masks).

No Django here: the gateway's uvicorn protocol (server.py) imports it before Django is set up, and
the hub (hub.py) builds each event's frames with it once per event rather than once per member.
"""
from __future__ import annotations

import struct

_MEDIUM = struct.Struct("!BBH").pack
_LONG = struct.Struct("!BBQ").pack


def text_header(length: int) -> bytes:
    """The header of an unmasked, final, uncompressed text frame of `length` bytes."""
    if length < 126:
        return bytes((0x81, length))
    if length < 65536:
        return _MEDIUM(0x81, 126, length)
    return _LONG(0x81, 127, length)


def text_frame(data: bytes) -> bytes:
    return text_header(len(data)) + data


def payload(frame: bytes) -> bytes:
    """The text (UTF-8) a frame built by text_header carries."""
    size = frame[1]
    return frame[2:] if size < 126 else frame[4:] if size == 126 else frame[10:]


class Framed(dict):
    """A broadcast's frames up to each member's ending: `framed[n]` is the header of a frame whose
    payload is `head` and n more bytes, followed by `head`. A member's frame is then that and its
    ending (its sequence number and a brace): the header, which depends only on the length, is
    built once per length rather than once per member, and the member's frame is one concatenation."""

    __slots__ = ("head",)

    def __init__(self, head: bytes):
        super().__init__()
        self.head = head

    def __missing__(self, n: int) -> bytes:
        framed = self[n] = text_header(len(self.head) + n) + self.head
        return framed
