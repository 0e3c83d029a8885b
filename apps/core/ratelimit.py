"""Fixed-window counters in the cache (Redis in production and tests)."""
from django.core.cache import cache


def hit(key: str, *, window: int) -> int:
    """Count one event under `key` and return how many were seen in the current window."""
    full = f"rl:{key}"
    if cache.add(full, 1, timeout=window):
        return 1
    try:
        return cache.incr(full)
    except ValueError:  # expired between add and incr
        cache.add(full, 1, timeout=window)
        return 1


def count(key: str) -> int:
    return cache.get(f"rl:{key}", 0)


def reset(key: str) -> None:
    cache.delete(f"rl:{key}")
