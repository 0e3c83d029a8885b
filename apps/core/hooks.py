"""Slots: how a lower app calls into an app above it without importing it.

Apps are layered (the import contract in pyproject.toml): chat builds on guilds, moderation on chat
and tracks, and none imports an app above its own. Where a lower app's write must still reach an
upper one (a message sent is scored by moderation; a ban purges the member's chat messages), the
lower app declares a named Slot in its hooks.py and calls it at that point, in plain sight, and the
upper app fills it in its AppConfig.ready(). A slot holds one function: a reader who greps the
slot's name finds the one caller and the one filler.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Slot:
    def __init__(self, name: str, *, empty: Any = None):
        """`empty`: what a call answers while nothing fills the slot (an app left out of
        INSTALLED_APPS, or a process before Django is set up)."""
        self.name = name
        self.empty = empty
        self.fn: Callable | None = None

    def fill(self, fn: Callable) -> None:
        if self.fn is not None and self.fn is not fn:
            raise RuntimeError(f"the slot {self.name} is already filled by {self.fn!r}")
        self.fn = fn

    def __call__(self, *args, **kwargs):
        if self.fn is None:
            return self.empty
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Slot {self.name}: {self.fn!r}>"
