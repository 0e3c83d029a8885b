"""Path converters for the URLs of every app."""
from __future__ import annotations

MAX_ID = 2**63 - 1  # a bigint, the widest id column


class IdConverter:
    """`<id:name>`: a database id, as `<int:name>` but no wider than the id columns. A larger number
    matches no route (404): a query given it fails on SQLite (an OverflowError, a 500) and finds
    nothing on PostgreSQL."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError("id out of range")  # the resolver then tries the next route
        return number

    def to_url(self, value) -> str:
        return str(value)


def is_id(value) -> bool:
    """Whether a value a client sent (in a body or a frame) can be a database id: an integer from 0
    to MAX_ID. A larger one would reach a query SQLite refuses (an OverflowError, a 500)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID
