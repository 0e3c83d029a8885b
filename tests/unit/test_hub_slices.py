"""A broadcast to a big group hands the event loop over every few milliseconds of work, so that an
unrelated socket (a heartbeat, another channel's message) is not held up until the broadcast ends,
however slow each member is on a busy machine; and every member still gets the event, once, in order."""
from types import SimpleNamespace

from apps.core import bus
from apps.realtime import hub


class Clock:
    """The hub's clock, advanced by the members' work only (the test's timing does not depend on the
    machine's load)."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Member:
    """A member whose relay costs `cost` seconds, as on a loaded machine."""

    def __init__(self, clock: Clock, cost: float):
        self.clock, self.cost, self.got = clock, cost, []

    def relay(self, ev) -> bool:
        self.clock.now += self.cost
        self.got.append(ev.d["n"])
        return True


def relay_in_slices(monkeypatch, members: int, cost: float, events: int = 1) -> tuple[list[int], list[Member]]:
    """Members relayed between two turns of the event loop, for each slice; and the members."""
    clock = Clock()
    monkeypatch.setattr(hub, "time", SimpleNamespace(perf_counter=clock, time=lambda: 0.0))
    h = hub.Hub(None)
    group = [Member(clock, cost) for _ in range(members)]
    h.groups["guild.1"] = set(group)
    slices, done = [], 0

    def cut():
        nonlocal done
        slices.append(sum(len(m.got) for m in group) - done)
        done += slices[-1]

    for n in range(events):
        for _ in h._relay("guild.1", bus.encode("MESSAGE_CREATE", {"n": n})):
            cut()
        cut()
    return slices, group


def test_a_big_broadcast_yields_the_loop_every_few_milliseconds(monkeypatch):
    slices, members = relay_in_slices(monkeypatch, 10_000, 0.0001, events=2)  # 1 s of work per broadcast
    # SLICE_SECONDS of work, and at most one chunk of members more, between two turns of the loop.
    assert max(slices) <= hub.SLICE_SECONDS / 0.0001 + hub.CHUNK
    assert len(slices) >= 2 * 1.0 / (hub.SLICE_SECONDS + hub.CHUNK * 0.0001)
    assert all(m.got == [0, 1] for m in members)


def test_a_quick_broadcast_is_relayed_without_a_pause(monkeypatch):
    slices, members = relay_in_slices(monkeypatch, 1000, 0.000001)  # 1 ms of work
    assert slices == [1000]
    assert all(m.got == [0] for m in members)
