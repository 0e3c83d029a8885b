"""A broadcast to a big group hands the event loop over every few milliseconds of work, so that an
unrelated socket (a heartbeat, another channel's message) is not held up until the broadcast ends,
however slow each member is on a busy machine; and every member still gets the event, once, in order."""
import time

from apps.core import bus
from apps.realtime import hub


class Member:
    """A member whose relay costs `cost` seconds of CPU, as on a loaded machine."""

    def __init__(self, cost: float):
        self.cost, self.got = cost, []

    def relay(self, ev) -> bool:
        end = time.perf_counter() + self.cost
        while time.perf_counter() < end:
            pass
        self.got.append(ev.d["n"])
        return True


def test_a_big_broadcast_yields_the_loop_every_few_milliseconds():
    h = hub.Hub(None)
    members = [Member(0.0001) for _ in range(1000)]  # 100 ms of work in all
    h.groups["guild.1"] = set(members)
    gaps, last = [], time.perf_counter()
    for n in range(2):
        for _ in h._relay("guild.1", bus.encode("MESSAGE_CREATE", {"n": n})):
            now = time.perf_counter()
            gaps.append(now - last)
            last = now
    assert len(gaps) >= 10  # 200 ms of relaying, cut into slices
    # A slice is SLICE_SECONDS and at most one chunk of members more; the margin is for a busy machine.
    assert sorted(gaps)[len(gaps) // 2] < 0.010, gaps
    assert all(m.got == [0, 1] for m in members)


def test_a_small_group_is_relayed_without_a_pause():
    h = hub.Hub(None)
    members = [Member(0) for _ in range(100)]
    h.groups["guild.1"] = set(members)
    assert list(h._relay("guild.1", bus.encode("MESSAGE_CREATE", {"n": 7}))) == []
    assert all(m.got == [7] for m in members)
