"""State that belongs to one event loop (asyncio objects and Redis clients cannot cross loops)."""
from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def loop_local(registry: weakref.WeakKeyDictionary, make: Callable[[], T]) -> T:
    """The running loop's entry in `registry` (event loop → object), made on first use."""
    loop = asyncio.get_running_loop()
    if loop not in registry:
        registry[loop] = make()
    return registry[loop]
