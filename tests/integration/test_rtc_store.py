"""The voice state store, the same contract in Redis (production, tests) and in memory (`make run`)."""
import time

import pytest
import redis
from django.conf import settings

from apps.rtc.store import MemoryStore, RedisStore


@pytest.fixture(params=["redis", "memory"])
def store(request):
    if request.param == "memory":
        return MemoryStore()
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("smartc:voice:*"):
        client.delete(key)
    return RedisStore(settings.REDIS_URL)


def state(user_id, channel_id=10, session="s", guild_id=1):
    return {"guild_id": guild_id, "channel_id": channel_id, "user_id": user_id, "session_id": f"{session}{user_id}",
            "self_mute": False, "self_deaf": False, "self_video": False, "self_stream": False,
            "mute": False, "deaf": False}


def test_join_counts_the_channel_and_refuses_past_capacity(store):
    assert store.join(state(1), 2, 30).count == 1
    assert store.join(state(2, channel_id=11), 2, 30).count == 1  # another channel does not count
    assert store.join(state(3), 2, 30).count == 2
    full = store.join(state(4), 2, 30)
    assert not full.ok and full.count == 2
    again = store.join({**state(3), "self_mute": True}, 2, 30)  # rejoining is not one more
    assert again.ok and again.count == 2 and again.old["self_mute"] is False
    assert sorted(s["user_id"] for s in store.states(1)) == [1, 2, 3]
    assert store.guild_of(3) == 1 and store.guild_of(4) is None


def test_updates_and_leaves_only_touch_the_named_session(store):
    store.join(state(1), 0, 30)
    assert not store.update(1, 1, {"self_mute": True}, 30, session="other").ok
    changed = store.update(1, 1, {"self_mute": True}, 30, session="s1")
    assert changed.ok and changed.state["self_mute"] is True and changed.old["self_mute"] is False
    assert store.update(1, 1, {"mute": True}, 30).state["mute"] is True  # a moderator: any session
    assert not store.leave(1, 1, session="other").ok
    gone = store.leave(1, 1, session="s1")
    assert gone.ok and gone.old["user_id"] == 1 and store.states(1) == [] and store.guild_of(1) is None


def test_expired_participants_are_dropped_by_the_next_write_and_handed_back(store):
    store.join(state(1), 0, 0.3)
    store.join(state(2), 0, 30)
    assert store.get(1, [1, 2, 3]).keys() == {1, 2}
    time.sleep(0.4)
    assert [s["user_id"] for s in store.states(1)] == [2]  # reads skip it...
    assert store.get(1, [1, 2]).keys() == {2}
    result = store.update(1, 2, {}, 30, session="s2")  # ...and the next write drops and returns it
    assert result.ok and [s["user_id"] for s in result.dropped] == [1]
    assert store.update(1, 2, {}, 30).dropped == []


def test_a_party_is_swapped_in_only_over_the_version_read(store):
    assert store.party(1, 10) is None
    assert store.swap_party(1, 10, 0, {"track_id": 5, "version": 1})
    assert not store.swap_party(1, 10, 0, {"track_id": 6, "version": 1})  # another start came first
    assert store.swap_party(1, 10, 1, {"track_id": 5, "version": 2, "playing": False})
    assert not store.swap_party(1, 10, 1, None)  # a stale stop does not end the newer state
    assert store.party(1, 10) == {"track_id": 5, "version": 2, "playing": False}
    assert store.party(1, 11) is None  # one party per channel
    assert store.swap_party(1, 10, 2, None)
    assert store.party(1, 10) is None
