"""The fan-out hub: every gateway event reaches a node's sockets through one Redis pub/sub
subscription per group and node, instead of one channel-layer round trip per member.

Each process and event loop keeps a registry group → local gateway connections. While a group has a
local member, the hub is subscribed once to the group's Redis channel (`smartc:hub:<group>`); a
single reader task relays what arrives. The publisher serialises an event once; the receiving node
parses it once and builds each member's frame by appending the member's sequence number to a
precomputed prefix. Without HUB_REDIS_URL (`make run`, one process) events are handed to the local
hubs directly. On a Redis Cluster (HUB_REDIS_CLUSTER) the node holds a sharded subscription per shard
(a ClusterHub of Hubs), each group's channel on the shard that owns its slot.

Events reach a group's local members in the order they were published (one publisher connection
per thread, one subscriber connection per node). Every frame a connection sends goes through its
Outbox: a bounded, order-preserving backlog, so a slow socket never stalls a broadcast; past
GATEWAY_MAX_BACKLOG frames the connection is closed (Close.TOO_SLOW) and its client reconnects and
catches up over REST.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import weakref
from collections import deque
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from apps.core import bus

from . import frames, metrics
from .protocol import event_guild_id

log = logging.getLogger(__name__)
# The ASGI extension of a server's synchronous frame write (apps/realtime/server.py, which holds the
# same name: it is imported by uvicorn before Django is set up, so it cannot import this module).
SEND_FRAME = "smartc.send_frame"
RECONNECT_DELAY = 0.2  # seconds, doubled per failed attempt up to RECONNECT_MAX
RECONNECT_MAX = 2.0
# A big group's broadcast turns the event loop over after about SLICE_SECONDS of relaying (checked
# every CHUNK members): an unrelated socket's frame is then answered within a few slices, whatever
# the size of the group or the load of the machine. A count of members would not bound it: the same
# 1,000 members take 20 ms on a quiet core and 70 ms on a shared one.
SLICE_SECONDS = 0.002
CHUNK = 32


def frame_prefix(t: str, text: str) -> str:
    """A DISPATCH frame of `t` with data `text` (JSON), up to its sequence number: a member's frame
    is this, its number and a closing brace."""
    return f'{{"op":0,"t":"{t}","d":{text},"s":'


class Event:
    """One published event as a node hands it to its members: parsed once, with what every
    member's visibility check reads computed once."""

    __slots__ = ("t", "d", "prefix", "framed", "guild_id", "channel_id")

    def __init__(self, t: str, d: dict, prefix: str):
        self.t, self.d, self.prefix = t, d, prefix
        # Encoded once. A member's frame is framed[len(ending)] + ending, its ending its `s` and b"}":
        # the header, the same for every member whose `s` has as many digits, is built once for them.
        self.framed = frames.Framed(prefix.encode())
        self.guild_id = event_guild_id(t, d)
        self.channel_id = d.get("channel_id")


class Outbox:
    """A connection's outgoing frames, in order. `put` never waits.

    While nothing is waiting, a frame is written at once: through the server's synchronous write
    when it offers one and the socket takes it (apps/realtime/server.py), else by running the ASGI
    send right there, up to its first suspension (a server's send only suspends when the socket is
    paused by flow control).
    If it suspends, a writer task finishes it and drains the frames queued meanwhile, then ends. An
    idle connection holds no task, and a broadcast costs no task switch per member."""

    __slots__ = ("send", "send_frame", "limit", "items", "task", "done")

    def __init__(self, send, limit: int, send_frame=None):
        """`send_frame`: the server's synchronous write of a whole frame (apps/realtime/server.py), if it
        has one."""
        self.send, self.send_frame, self.limit = send, send_frame or _no_write, limit
        self.items: deque | None = None  # while the writer runs: frames waiting, maybe then the close code
        self.task: asyncio.Task | None = None  # the writer, while frames wait
        self.done = False  # closed or broken: nothing more is sent

    def put(self, item) -> bool:
        """Queue a frame's text (str, or bytes: its UTF-8) or the close (int); False if the backlog is full."""
        if self.task is None and not self.done and not isinstance(item, int):
            return self.write(item)
        if self.done:
            return True  # the socket is gone: nothing more to send
        if self.task is not None:
            if not isinstance(item, int) and len(self.items) >= self.limit:
                return False
            self.items.append(item)
        else:
            self._closing(item)
        return True

    def write(self, text: str | bytes) -> bool:
        """`put` of a frame's text, without the checks for a close."""
        if self.task is None and not self.done:
            if self.send_frame is not _no_write:
                try:
                    if self.send_frame(frames.text_frame(text if text.__class__ is bytes else text.encode())):
                        return True
                except Exception:  # one broken socket never stops the others
                    self._broken()
                    return True
            self._write_now(text)
            return True
        return self.put(text)

    def write_frame(self, frame: bytes) -> bool:
        """A whole frame (frames.text_header and its text): the common case, once per member of every
        broadcast (nothing waits, written at once). Its text is taken out of it only when the server
        cannot write it now (paused, closing, or without the synchronous write)."""
        if self.task is None and not self.done:
            try:
                if self.send_frame(frame):
                    return True
            except Exception:  # one broken socket never stops the others
                self._broken()
                return True
            self._write_now(frames.payload(frame))
            return True
        return self.put(frames.payload(frame))

    def abort(self, code: int) -> None:
        """Drop the backlog and close now (the writer may be stuck on a socket that does not read)."""
        self.items = None
        if self.task is not None:
            self.task.cancel()
        self._closing(code)

    def _closing(self, code: int) -> None:
        self.done = True
        self.task = asyncio.get_running_loop().create_task(self._close(code))

    async def _close(self, code: int) -> None:
        try:
            await self.send({"type": "websocket.close", "code": code})
        except Exception:  # the socket is already gone
            pass

    def _write_now(self, text: str | bytes) -> None:
        """The ASGI send, run here up to its first suspension (the server has no synchronous write,
        or the socket is paused by flow control)."""
        coro = self.send(_message(text))
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        except Exception:  # one broken socket never stops the others
            self._broken()
            return
        self.items = deque()
        self.task = asyncio.get_running_loop().create_task(self._drain(coro, waiting))

    async def _drain(self, coro, waiting) -> None:
        try:
            await _resume(coro, waiting)
            while self.items:
                item = self.items.popleft()
                if isinstance(item, int):
                    self.done = True
                    await self._close(item)
                    return
                await self.send(_message(item))
        except asyncio.CancelledError:
            raise
        except Exception:
            self._broken()
            return
        self.task = self.items = None

    def _broken(self) -> None:
        log.debug("a frame could not be written", exc_info=True)
        metrics.SEND_ERRORS.inc()
        self.done = True
        self.items = None

    def stop(self) -> None:
        self.done = True
        if self.task is not None:
            self.task.cancel()


def _no_write(frame) -> bool:
    """The synchronous write of a server that has none: every frame goes through the ASGI send."""
    return False


def _message(text: str | bytes) -> dict:
    """The ASGI message of a text frame (the slow path: a socket paused by flow control, or a server
    without the synchronous write)."""
    return {"type": "websocket.send", "text": text if isinstance(text, str) else text.decode()}


class _Yield:
    """An awaitable that hands a future, yielded by a coroutine run by hand, to the running task."""

    def __init__(self, future):
        self.future = future

    def __await__(self):
        yield self.future


async def _resume(coro, waiting) -> None:
    """Finish a coroutine that was started by hand and suspended on `waiting` (what it yielded)."""
    while True:
        try:
            await _Yield(waiting)
        except BaseException as exc:  # cancelled meanwhile: the coroutine sees it where it waits
            try:
                waiting = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            waiting = coro.send(None)
        except StopIteration:
            return


class Hub:
    """A node's subscription to one Redis (or, `sharded`, to one shard of a Redis Cluster, with
    SSUBSCRIBE) and the local members of the groups subscribed there."""

    def __init__(self, url: str | None, *, sharded: bool = False):
        self.url, self.sharded = url, sharded
        self.groups: dict[str, set] = {}  # group → local connections
        self.pubsub = None  # None: not connected (yet, or since Redis was lost)
        self.lock = asyncio.Lock()  # one (re)connection at a time
        self.reader: asyncio.Task | None = None
        self.pending: list[tuple[list[str], object, asyncio.Future]] = []  # joins waiting for their SUBSCRIBE

    # --- membership -----------------------------------------------------------------------------

    def join(self, groups: list[str], member) -> asyncio.Future:
        """Register a local member in several groups now; the future is done once the node is
        subscribed to all of them, or failed (Redis unreachable: the member is then out of the groups
        it brought, and the socket cannot be served). The one way in: the groups that sockets join
        in one turn of the event loop are subscribed in one command (a reconnect storm's sockets
        each join their user's group: a SUBSCRIBE per socket otherwise)."""
        new = []
        for group in groups:
            members = self.groups.setdefault(group, set())
            if not members:
                new.append(group)
            members.add(member)
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        if not new or not self.url:
            done.set_result(None)
            return done
        self.pending.append((new, member, done))
        if len(self.pending) == 1:
            loop.create_task(self._subscribe_pending())
        return done

    async def _subscribe_pending(self) -> None:
        async with self.lock:  # joins that arrive meanwhile go into this same command
            pending, self.pending = self.pending, []
            if not pending:
                return
            try:
                if self.pubsub is None:
                    await self._connect()
                else:  # not the groups whose members all left meanwhile (their UNSUBSCRIBE is sent)
                    channels = {bus.channel(g) for new, _, _ in pending for g in new if g in self.groups}
                    if channels:
                        await self._subscribe(self.pubsub, *channels)
            except Exception as exc:
                for new, member, done in pending:
                    for group in new:
                        await self.discard(group, member)
                    if not done.done():
                        done.set_exception(exc)
                return
        if self.reader is None or self.reader.done():
            self.reader = asyncio.get_running_loop().create_task(self._read())
        for _, _, done in pending:
            if not done.done():
                done.set_result(None)

    async def discard(self, group: str, member) -> None:
        members = self.groups.get(group)
        if not members or member not in members:
            return
        members.discard(member)
        if members:
            return
        del self.groups[group]
        # The last group of the node: the reader closes the whole subscription, at once.
        if self.pubsub is not None and self.groups:
            try:
                await (self.pubsub.sunsubscribe if self.sharded else self.pubsub.unsubscribe)(bus.channel(group))
            except Exception:  # the connection is lost: it is resubscribed without this group
                log.warning("could not unsubscribe from %s", group)

    async def discard_all(self, member) -> None:
        for group in [g for g, members in self.groups.items() if member in members]:
            await self.discard(group, member)

    async def _connect(self) -> None:
        pubsub = _client(self.url).pubsub(ignore_subscribe_messages=True)
        try:
            await self._subscribe(pubsub, *[bus.channel(g) for g in self.groups])
        except Exception:
            await pubsub.aclose()
            raise
        self.pubsub = pubsub

    async def _subscribe(self, pubsub, *channels: str) -> None:
        if not self.sharded:
            await pubsub.subscribe(*channels)
            return
        for channel in channels:  # one SSUBSCRIBE names channels of one slot only
            await pubsub.ssubscribe(channel)

    # --- delivery -------------------------------------------------------------------------------

    def deliver(self, group: str, data: str) -> None:
        """Relay one published event to all the group's local members at once."""
        for _ in self._relay(group, data):
            pass

    def _relay(self, group: str, data: str):
        """Relay one published event to the group's local members, parsed once and framed per member
        by appending its sequence number; pauses (yields) after each SLICE_SECONDS of work."""
        members = self.groups.get(group)
        if not members:
            return
        t, published, text = bus.decode(data)
        ev = Event(t, json.loads(text), frame_prefix(t, text))
        frames = 0
        batch = list(members)
        clock = time.perf_counter
        until = clock() + SLICE_SECONDS
        for start in range(0, len(batch), CHUNK):
            if start and clock() >= until:
                yield
                until = clock() + SLICE_SECONDS
            for member in batch[start:start + CHUNK]:
                try:
                    frames += member.relay(ev)
                except Exception:  # one member's failure never stops the broadcast
                    log.exception("could not relay %s", t)
        metrics.delivered(t, frames)
        metrics.BROADCAST_LATENCY.observe(max(0.0, time.time() - published))

    async def _read(self) -> None:
        while self.groups:
            await self._read_while_members()
            # No local member left: drop the subscription. A socket that joins while it closes
            # connects a new one, and this loop reads that one too (there is one reader per node).
            pubsub, self.pubsub = self.pubsub, None
            await _aclose(pubsub)
            async with self.lock:  # a socket that joined meanwhile may be connecting the new one
                pass

    async def _read_while_members(self) -> None:
        while self.groups:
            pubsub = self.pubsub
            if pubsub is None:
                await self._reconnect()
                continue
            try:
                message = await pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("the hub lost its Redis connection; reconnecting")
                if self.pubsub is pubsub:
                    self.pubsub = None
                    await _aclose(pubsub)
                continue
            if message and message["type"] in ("message", "smessage"):
                # Other sockets get the event loop between slices of a big group, and between
                # messages: those already buffered are read without suspending, and a burst of
                # broadcasts would otherwise hold every other socket's frames until it ends.
                for _ in self._relay(_text(message["channel"])[len(bus.PREFIX):], _text(message["data"])):
                    await asyncio.sleep(0)
                await asyncio.sleep(0)

    async def _reconnect(self) -> None:
        """Subscribe every group again, then ask the members who were there to reconnect and resume:
        what was published in between never reached them. (Members that join meanwhile connect
        the node themselves, before their READY.)"""
        lost = self._members()
        delay = RECONNECT_DELAY
        while self.groups and self.pubsub is None:
            try:
                async with self.lock:
                    if self.pubsub is None:
                        await self._connect()
            except Exception:
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX)
        resumed = self._members() & lost
        for member in resumed:
            member.resume()
        metrics.RESUME_CLOSES.inc(len(resumed))

    def _members(self) -> set:
        return {m for members in self.groups.values() for m in members}

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        pubsub, self.pubsub = self.pubsub, None
        await _aclose(pubsub)


async def _aclose(pubsub) -> None:
    if pubsub is not None:
        try:
            await pubsub.aclose()
        except Exception:  # already broken
            pass


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop → {url: redis client}
_hubs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop → Hub
_hubs_lock = threading.Lock()


def _group_count() -> int:
    with _hubs_lock:
        hubs = list(_hubs.values())
    return sum(len(h.groups) for h in hubs)


metrics.HUB_GROUPS.set_function(_group_count)


def _client(url: str, *, cluster: bool = False):
    """This event loop's client for `url` (a Redis Cluster client with `cluster`)."""
    import redis.asyncio as redis
    from redis.asyncio.cluster import RedisCluster
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    clients = _clients.setdefault(asyncio.get_running_loop(), {})
    key = ("cluster", url) if cluster else url
    if key not in clients:
        # No silent retry: a lost connection must be seen, to tell the clients what they missed.
        if cluster:
            clients[key] = RedisCluster.from_url(url, retry=Retry(NoBackoff(), 0))
        else:
            clients[key] = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), health_check_interval=30)
    return clients[key]


class ClusterHub:
    """A node's hub on a Redis Cluster: a sharded subscription per shard (a Hub each, on the shard's
    primary), each group's channel subscribed on the shard that owns its slot, where its publisher
    SPUBLISHes it. A shard that restarts is that Hub's lost connection: it subscribes again and asks
    its members to resume, while the other shards' members are not disturbed."""

    def __init__(self, url: str):
        self.url = url
        self.shards: dict[str, Hub] = {}  # "host:port" → the Hub subscribed there

    @property
    def groups(self) -> dict[str, set]:
        return {g: members for shard in self.shards.values() for g, members in shard.groups.items()}

    async def _shard(self, group: str) -> Hub:
        cluster = _client(self.url, cluster=True)
        await cluster.initialize()  # learns the slots once; a no-op afterwards
        node = cluster.get_node_from_key(bus.channel(group))
        address = f"{node.host}:{node.port}"
        if address not in self.shards:
            parts = urlsplit(self.url)
            credentials = parts.netloc.rpartition("@")[0]
            url = urlunsplit((parts.scheme, f"{credentials}@{address}" if credentials else address, "", "", ""))
            self.shards[address] = Hub(url, sharded=True)
        return self.shards[address]

    def join(self, groups: list[str], member) -> asyncio.Future:
        return asyncio.ensure_future(self._join(groups, member))

    async def _join(self, groups: list[str], member) -> None:
        by_shard: dict[Hub, list[str]] = {}
        for group in groups:
            by_shard.setdefault(await self._shard(group), []).append(group)
        await asyncio.gather(*(shard.join(groups, member) for shard, groups in by_shard.items()))

    async def discard(self, group: str, member) -> None:
        for shard in list(self.shards.values()):
            if group in shard.groups:
                await shard.discard(group, member)

    async def discard_all(self, member) -> None:
        for shard in list(self.shards.values()):
            await shard.discard_all(member)

    async def close(self) -> None:
        for shard in self.shards.values():
            await shard.close()


def hub() -> Hub | ClusterHub:
    """This event loop's hub."""
    loop = asyncio.get_running_loop()
    with _hubs_lock:
        if loop not in _hubs:
            if not _hubs:  # the first hub of the process: it now serves sockets
                metrics.count_events()
                bus.local.fill(deliver_locally)
            url = settings.HUB_REDIS_URL or None
            _hubs[loop] = ClusterHub(url) if url and settings.HUB_REDIS_CLUSTER else Hub(url)
        return _hubs[loop]


async def close() -> None:
    """Stop this event loop's hub (the loop is ending)."""
    loop = asyncio.get_running_loop()
    with _hubs_lock:
        h = _hubs.pop(loop, None)
    if h is not None:
        await h.close()
    for client in _clients.pop(loop, {}).values():
        await client.aclose()


def deliver_locally(groups: list[str], data: str) -> None:
    """The bus's in-process delivery (no HUB_REDIS_URL): hand an encoded event, from any thread, to the
    hub of every event loop of this process."""
    with _hubs_lock:
        hubs = list(_hubs.items())
    for loop, h in hubs:
        for group in groups:
            if not loop.is_closed():
                loop.call_soon_threadsafe(h.deliver, group, data)


async def publish_async(groups: list[str], t: str, d: dict) -> None:
    """`apps.core.bus.send` from this event loop, without blocking it."""
    data = bus.encode(t, d)
    if not settings.HUB_REDIS_URL:
        for group in groups:
            hub().deliver(group, data)
        return
    if settings.HUB_REDIS_CLUSTER:
        publish = _client(settings.HUB_REDIS_URL, cluster=True).spublish
    else:
        publish = _client(settings.HUB_REDIS_URL).publish
    for group in groups:
        await publish(bus.channel(group), data)
