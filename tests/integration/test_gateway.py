"""The WebSocket gateway through the whole ASGI stack (origin check, session auth, routing), on the
real Redis (the gateway hub) and PostgreSQL. Events are triggered through the services, as the app
does, and the tests assert what each socket receives.

"Receives nothing" is proven with a fence: after the events a socket must not see, an event it
must see is published; the socket's next frame has to be that one (frames arrive in order)."""
from __future__ import annotations

import asyncio
import functools
import json
import time
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from apps.chat import services as chat
from apps.chat.models import Message, ReadState
from apps.core import bus
from apps.core.errors import shown_time
from apps.guilds import invites, sanctions
from apps.guilds import services as guilds
from apps.guilds.models import Ban, Channel, PermissionOverwrite, Role
from apps.guilds.permissions import DEFAULT_EVERYONE, Permission
from apps.realtime import hub, presence
from apps.realtime.watchdog import watchdog
from smartc.asgi import application
from tests.factories import UserFactory, add_member, make_guild, make_invite, make_role

pytestmark = pytest.mark.django_db(transaction=True)
P = Permission
db = database_sync_to_async


def run_async(test):
    """Run an async test body on its own event loop (sync ORM calls in it go through `db`), closing
    the loop's hub and presence connections after it: Redis clients belong to the loop that used them."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        async def body():
            try:
                await test(*args, **kwargs)
            finally:
                await presence.close()
                await hub.close()

        async_to_sync(body)()

    return wrapper


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class Gateway:
    """One client socket. Checks on every DISPATCH that `s` is the previous one plus 1."""

    # Waits longer than this heartbeat meanwhile, as a real client does: the server closes a socket
    # that stays silent for 1.5 heartbeat intervals (4009), and a busy worker can take that long.
    KEEPALIVE = 20.0

    def __init__(self, comm: WebsocketCommunicator):
        self.comm = comm
        self.seq = 0
        self.hello = self.ready = None
        self.acks = 0  # HEARTBEAT_ACKs owed for the keep-alive heartbeats: skipped when they come

    async def frame(self, timeout: float = 3) -> dict:
        if timeout <= self.KEEPALIVE and not self.acks:
            return self._parse(await self.comm.receive_output(timeout))

        async def beat():
            while True:
                await asyncio.sleep(self.KEEPALIVE)
                self.acks += 1
                await self.send(1, self.seq)

        keepalive = asyncio.get_running_loop().create_task(beat()) if timeout > self.KEEPALIVE else None
        deadline = asyncio.get_running_loop().time() + timeout
        try:
            while True:
                left = max(0.01, deadline - asyncio.get_running_loop().time())
                f = self._parse(await self.comm.receive_output(left))
                if f["op"] == 11 and self.acks:
                    self.acks -= 1
                    continue
                return f
        finally:
            if keepalive is not None:
                keepalive.cancel()

    def _parse(self, out: dict) -> dict:
        assert out["type"] == "websocket.send", out
        f = json.loads(out["text"])
        assert set(f) == {"op", "d", "s", "t"}, f
        if f["op"] == 0:
            assert f["s"] == self.seq + 1, f
            self.seq = f["s"]
        else:
            assert f["s"] is None and f["t"] is None, f
        return f

    async def event(self, t: str, timeout: float = 3) -> dict:
        """The next frame, which must be a DISPATCH of `t`; returns its d."""
        f = await self.frame(timeout)
        assert (f["op"], f["t"]) == (0, t), f
        return f["d"]

    async def error(self) -> dict:
        f = await self.frame()
        assert f["op"] == 9, f
        return f["d"]

    async def closed(self, timeout: float = 3) -> int:
        out = await self.comm.receive_output(timeout)
        assert out["type"] == "websocket.close", out
        return out.get("code")

    async def send(self, op, d=None):
        await self.comm.send_to(text_data=json.dumps({"op": op, "d": d}, ensure_ascii=False))

    async def send_raw(self, text=None, binary=None):
        await self.comm.send_to(text_data=text, bytes_data=binary)

    async def still_open(self):
        await self.send(1, self.seq)
        assert (await self.frame())["op"] == 11


@asynccontextmanager
async def gateway(user=None, *, ready: bool = True, cookies: dict | None = None, headers: list | None = None):
    cookies = dict(cookies or {})
    if user is not None:
        cookies[settings.SESSION_COOKIE_NAME] = await db(session_cookie)(user)
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver"), *(headers or [])]
    if cookies:
        headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()))
    comm = WebsocketCommunicator(application, "/ws/gateway/", headers=headers)
    connected, _ = await comm.connect()
    assert connected
    gw = Gateway(comm)
    try:
        if ready:
            gw.hello = await gw.frame()
            assert gw.hello["op"] == 10
            gw.ready = await gw.event("READY")
        yield gw
    finally:
        await comm.disconnect()


def text_channel(guild, name="general") -> Channel:
    return Channel.objects.get(guild=guild, name=name)


def everyone(guild) -> Role:
    return Role.objects.get(guild=guild, is_default=True)


def send(author, channel, content="hello", **kw) -> Message:
    return chat.send_message(author=author, channel_id=channel.id, content=content, **kw)


def member(guild, user):
    return guild.members.get(user=user)


@pytest.fixture
def secret(guild, owner, alice):
    """A channel @everyone cannot view, but alice can (a member overwrite)."""
    ch = guilds.create_channel(actor=owner, guild=guild, name="secret")
    guilds.set_overwrite(actor=owner, channel=ch, allow=0, deny=int(P.VIEW_CHANNEL), role=everyone(guild))
    guilds.set_overwrite(actor=owner, channel=ch, allow=int(P.VIEW_CHANNEL), deny=0, member=member(guild, alice))
    return ch


# --- connecting ---------------------------------------------------------------------------------

@run_async
async def test_anonymous_connection_is_accepted_then_closed_4003_holding_nothing():
    for _ in range(5):
        async with gateway(None, ready=False) as gw:
            assert await gw.closed() == 4003
            # It has ended on its own, holding nothing.
            await asyncio.wait([gw.comm.future], timeout=0.5)
            assert gw.comm.future.done() and gw.comm.future.exception() is None


@run_async
async def test_a_foreign_origin_or_an_unknown_path_is_refused_at_the_handshake(alice, settings):
    settings.ALLOWED_HOSTS = ["testserver"]  # the suite allows any
    cookie = (b"cookie", f"{settings.SESSION_COOKIE_NAME}={await db(session_cookie)(alice)}".encode())
    for path, origin in (("/ws/gateway/", b"http://evil.example"), ("/ws/gateway/", None),
                         ("/ws/other/", b"http://testserver")):
        headers = [(b"host", b"testserver"), cookie] + ([(b"origin", origin)] if origin else [])
        comm = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await comm.connect()
        assert not connected, (path, origin)
        await comm.wait()  # the refusal holds nothing
    async with gateway(alice) as gw:  # the same session from the right origin and path
        assert gw.ready["user"]["id"] == alice.id


@run_async
async def test_a_session_that_is_no_longer_valid_is_refused_4003(alice):
    """A forged cookie, a logged-out session and one from before a password change all count as
    anonymous, as they do for pages."""
    cookie = await db(session_cookie)(alice)
    async with gateway(ready=False, cookies={settings.SESSION_COOKIE_NAME: "forged"}) as gw:
        assert await gw.closed() == 4003

    def change_password():
        alice.set_password("a new password 2026")
        alice.save()

    await db(change_password)()
    async with gateway(ready=False, cookies={settings.SESSION_COOKIE_NAME: cookie}) as gw:
        assert await gw.closed() == 4003
    async with gateway(alice) as gw:  # logging in again works
        assert gw.ready["user"]["id"] == alice.id


@run_async
async def test_hello_then_ready_lists_only_visible_channels_with_unread_counts(guild, owner, alice, bob, secret,
                                                                                settings):
    general = await db(text_channel)(guild)
    voice = await db(Channel.objects.get)(guild=guild, type="voice")
    other = await db(make_guild)(name="Elsewhere")  # bob is not a member
    second = await db(make_guild)(owner, name="Second")
    await db(add_member)(second, user=bob)
    m1 = await db(send)(owner, general, "first")
    await db(chat.ack_message)(user=bob, channel_id=general.id, message_id=m1.id)
    await db(send)(owner, general, "hey @bob")
    await db(send)(owner, general, "third")
    await db(send)(bob, general, "my own message is not unread")
    await db(send)(owner, secret, "in the secret channel @bob")
    await db(send)(other.owner, await db(text_channel)(other), "not bob's guild")

    async with gateway(bob) as gw:
        assert gw.hello == {"op": 10, "d": {"heartbeat_interval": settings.GATEWAY_HEARTBEAT_INTERVAL_MS},
                            "s": None, "t": None}
        ready = gw.ready
        assert gw.seq == 1
        assert ready["user"] == {"id": bob.id, "username": "bob", "display_name": "Bob"}
        assert isinstance(ready["session_id"], str) and len(ready["session_id"]) >= 16
        assert [(g["id"], g["name"]) for g in ready["guilds"]] == [(guild.id, "Test Guild"), (second.id, "Second")]
        assert ready["guilds"][0]["channels"] == [
            {"id": general.id, "name": "general", "type": "text", "category_id": general.category_id,
             "position": 0, "unread": 2, "mentions": 1},
            {"id": voice.id, "name": "General", "type": "voice", "category_id": voice.category_id,
             "position": 1, "unread": 0, "mentions": 0},
        ]
        assert [c["name"] for c in ready["guilds"][1]["channels"]] == ["general", "General"]

    async with gateway(alice) as gw:
        channels = {c["name"]: c for c in gw.ready["guilds"][0]["channels"]}
        assert set(channels) == {"general", "General", "secret"}
        assert (channels["secret"]["unread"], channels["secret"]["mentions"]) == (1, 0)
        assert channels["general"]["unread"] == 4
        assert [g["id"] for g in gw.ready["guilds"]] == [guild.id]

    async with gateway(owner) as gw:
        assert [c["name"] for c in gw.ready["guilds"][0]["channels"]] == ["general", "General", "secret"]
        assert gw.ready["guilds"][0]["channels"][0]["unread"] == 1  # bob's own message


@run_async
async def test_heartbeat_is_acknowledged(alice):
    async with gateway(alice) as gw:
        await gw.send(1, None)
        assert await gw.frame() == {"op": 11, "d": None, "s": None, "t": None}
        await gw.send(1, gw.seq)
        assert await gw.frame() == {"op": 11, "d": None, "s": None, "t": None}
        await gw.send(1, "1")
        assert await gw.error() == {"code": "invalid_payload", "field": "d", "ref": 1,
                                    "message": '"d" must be the last sequence number or null.'}


@run_async
async def test_heartbeats_keep_the_socket_open_and_silence_closes_it_4009(alice, settings):
    # Closed after 1.5 s without a heartbeat: wide enough that a busy machine's stalls (a loaded CI
    # run once went 300 ms between two heartbeats 100 ms apart) do not count as silence.
    settings.GATEWAY_HEARTBEAT_INTERVAL_MS = 1000
    async with gateway(alice) as gw:
        assert gw.hello["d"] == {"heartbeat_interval": 1000}
        for _ in range(12):  # 3 s, twice the timeout, kept alive by heartbeats
            await asyncio.sleep(0.25)
            await gw.still_open()
        last = time.monotonic()
        assert await gw.closed(timeout=5) == 4009
        assert 1.25 < time.monotonic() - last < 4.0


@run_async
async def test_leaving_unsubscribes_and_stops_the_watchdog(guild, alice):
    store = redis.Redis.from_url(settings.REDIS_URL)
    channels = [bus.PREFIX + f"guild.{guild.id}", bus.PREFIX + f"user.{alice.id}"]
    async with gateway(alice):
        assert [n for _, n in store.pubsub_numsub(*channels)] == [1, 1]
        assert len(watchdog().watched) == 1
    await asyncio.sleep(0.1)  # the unsubscribe is sent, not awaited
    assert [n for _, n in store.pubsub_numsub(*channels)] == [0, 0]
    assert not watchdog().watched and not hub.hub().groups
    store.close()


# --- events reach those who can view them, and no one else ---------------------------------------

@run_async
async def test_chat_events_reach_only_members_who_can_view_the_channel(guild, owner, alice, bob, secret):
    general = await db(text_channel)(guild)
    carol = await db(UserFactory)(username="carol")
    carols = await db(make_guild)(carol, name="Carol's")
    async with gateway(alice) as a, gateway(bob) as b, gateway(carol) as c:
        msg = await db(send)(owner, secret, "psst")
        d = await a.event("MESSAGE_CREATE")
        assert (d["id"], d["channel_id"], d["guild_id"], d["content"]) == (msg.id, secret.id, guild.id, "psst")
        assert d["author"]["id"] == owner.id and "nonce" not in d

        await db(chat.edit_message)(actor=owner, message=msg, content="psst, edited")
        d = await a.event("MESSAGE_UPDATE")
        assert (d["id"], d["content"], d["channel_id"]) == (msg.id, "psst, edited", secret.id)
        assert d["edited_at"] is not None

        await db(chat.add_reaction)(actor=owner, message=msg, emoji="👍")
        assert await a.event("MESSAGE_REACTION_ADD") == {"channel_id": secret.id, "guild_id": guild.id,
                                                         "message_id": msg.id, "user_id": owner.id, "emoji": "👍"}
        await db(chat.remove_reaction)(actor=owner, message=msg, emoji="👍")
        assert await a.event("MESSAGE_REACTION_REMOVE") == {"channel_id": secret.id, "guild_id": guild.id,
                                                            "message_id": msg.id, "user_id": owner.id, "emoji": "👍"}
        await db(chat.pin_message)(actor=owner, message=msg)
        assert await a.event("CHANNEL_PINS_UPDATE") == {"channel_id": secret.id, "guild_id": guild.id,
                                                        "message_id": msg.id, "pinned": True}
        await db(chat.start_typing)(user=owner, channel_id=secret.id)
        d = await a.event("TYPING_START")
        assert (d["channel_id"], d["guild_id"], d["user_id"], d["display_name"]) == (secret.id, guild.id, owner.id,
                                                                                      "Owner")
        msg_id = msg.id
        await db(chat.delete_message)(actor=owner, message=msg)
        assert await a.event("MESSAGE_DELETE") == {"channel_id": secret.id, "guild_id": guild.id, "id": msg_id}

        # Fences: the first thing bob and carol hear is an event of a channel they can view.
        fence = await db(send)(owner, general, "everyone sees this")
        assert (await a.event("MESSAGE_CREATE"))["id"] == fence.id
        assert (await b.event("MESSAGE_CREATE"))["id"] == fence.id
        carol_fence = await db(send)(carol, await db(text_channel)(carols), "carol's own guild")
        assert (await c.event("MESSAGE_CREATE"))["id"] == carol_fence.id
        assert (a.seq, b.seq, c.seq) == (9, 2, 2)


@run_async
async def test_guild_events_reach_every_member_and_channel_events_only_viewers(guild, owner, alice, bob):
    # @everyone cannot view channels here; a role lets alice view them.
    await db(Role.objects.filter(pk=(await db(everyone)(guild)).pk).update)(
        permissions=int(DEFAULT_EVERYONE & ~P.VIEW_CHANNEL))
    readers = await db(make_role)(guild, permissions=P.VIEW_CHANNEL | P.SEND_MESSAGES, name="readers")
    await db(lambda: member(guild, alice).roles.add(readers))()
    async with gateway(alice) as a, gateway(bob) as b:
        assert [c["name"] for c in a.ready["guilds"][0]["channels"]] == ["general", "General"]
        assert b.ready["guilds"][0]["channels"] == []

        ch = await db(guilds.create_channel)(actor=owner, guild=guild, name="News Desk")
        d = await a.event("CHANNEL_CREATE")
        assert (d["id"], d["guild_id"], d["name"], d["type"]) == (ch.id, guild.id, "news-desk", "text")
        await db(guilds.update_channel)(actor=owner, channel=ch, topic="today")
        assert (await a.event("CHANNEL_UPDATE"))["topic"] == "today"
        ch_id = ch.id
        await db(guilds.delete_channel)(actor=owner, channel=ch)
        assert (await a.event("CHANNEL_DELETE"))["id"] == ch_id

        await db(guilds.update_guild)(actor=owner, guild=guild, name="Renamed")
        for gw in (a, b):  # bob's first event: none of the channel events above reached him
            d = await gw.event("GUILD_UPDATE")
            assert (d["id"], d["name"]) == (guild.id, "Renamed")
        role = await db(guilds.create_role)(actor=owner, guild=guild, name="mods")
        for gw in (a, b):
            assert (await gw.event("GUILD_ROLE_CREATE"))["id"] == role.id
        await db(guilds.set_nickname)(actor=owner, member=await db(member)(guild, bob), nickname="Bobby")
        for gw in (a, b):
            d = await gw.event("GUILD_MEMBER_UPDATE")
            assert (d["user_id"], d["nickname"]) == (bob.id, "Bobby")
        invite = await db(invites.create_invite)(actor=owner, guild=guild)
        for gw in (a, b):
            assert (await gw.event("INVITE_CREATE"))["code"] == invite.code


@run_async
async def test_joining_by_invite_subscribes_the_live_socket(guild, owner, alice):
    dave = await db(UserFactory)(username="dave")
    invite = await db(make_invite)(guild)
    general = await db(text_channel)(guild)
    async with gateway(alice) as a, gateway(dave) as d:
        assert d.ready["guilds"] == []
        await db(send)(owner, general, "before dave")
        await a.event("MESSAGE_CREATE")

        await db(invites.join_by_invite)(user=dave, code=invite.code)
        assert (await a.event("GUILD_MEMBER_ADD"))["user_id"] == dave.id
        joined = await d.event("GUILD_CREATE")
        assert (joined["id"], joined["name"], joined["owner_id"]) == (guild.id, "Test Guild", owner.id)
        assert [(c["name"], c["unread"]) for c in joined["channels"]] == [("general", 1), ("General", 0)]

        msg = await db(send)(owner, general, "welcome dave")
        assert (await d.event("MESSAGE_CREATE"))["id"] == msg.id
        assert (await a.event("MESSAGE_CREATE"))["id"] == msg.id


@run_async
async def test_sequence_numbers_count_each_connection_from_1(guild, owner, alice):
    general = await db(text_channel)(guild)
    async with gateway(alice) as tab1:
        await db(send)(owner, general, "one")
        assert (await tab1.frame())["s"] == 2
        async with gateway(alice) as tab2:  # a second tab has its own sequence
            assert tab2.seq == 1
            await db(send)(owner, general, "two")
            await db(send)(owner, general, "three")
            frames1 = [await tab1.frame() for _ in range(2)]
            frames2 = [await tab2.frame() for _ in range(2)]
            await tab1.send(1, None)
            ack = await tab1.frame()
            await db(send)(owner, general, "four")
            last = await tab1.frame()
    assert [(f["s"], f["d"]["content"]) for f in frames1] == [(3, "two"), (4, "three")]
    assert [(f["s"], f["d"]["content"]) for f in frames2] == [(2, "two"), (3, "three")]
    assert (ack["op"], ack["s"], last["s"], last["d"]["content"]) == (11, None, 5, "four")


# --- client requests ------------------------------------------------------------------------------

@run_async
async def test_send_message_stores_it_and_echoes_it_with_the_nonce(guild, owner, alice, bob):
    general = await db(text_channel)(guild)
    first = await db(send)(owner, general, "question?")
    async with gateway(alice) as a, gateway(bob) as b:
        await a.send(6, {"channel_id": general.id, "content": "  hi from the socket  ", "nonce": "n-1",
                         "reply_to": first.id})
        d = await a.event("MESSAGE_CREATE")
        assert (d["nonce"], d["content"], d["author"]["id"], d["channel_id"]) == ("n-1", "hi from the socket",
                                                                                  alice.id, general.id)
        assert d["reply_to"]["id"] == first.id
        stored = await db(Message.objects.get)(pk=d["id"])
        assert (stored.author_id, stored.content, stored.reply_to_id) == (alice.id, "hi from the socket", first.id)
        assert (await b.event("MESSAGE_CREATE"))["id"] == stored.id

        await a.send(6, {"channel_id": general.id, "content": "no nonce"})
        d = await a.event("MESSAGE_CREATE")
        assert d["content"] == "no nonce" and "nonce" not in d


@run_async
async def test_typing_and_ack_over_the_socket(guild, owner, alice, bob):
    general = await db(text_channel)(guild)
    msg = await db(send)(owner, general, "read me")
    async with gateway(alice) as a, gateway(bob) as b:
        assert a.ready["guilds"][0]["channels"][0]["unread"] == 1
        await a.send(4, {"channel_id": general.id})
        d = await b.event("TYPING_START")
        assert (d["user_id"], d["channel_id"]) == (alice.id, general.id)
        assert (await a.event("TYPING_START"))["user_id"] == alice.id

        await a.send(7, {"channel_id": general.id, "message_id": msg.id})
        assert await a.event("MESSAGE_ACK") == {"channel_id": general.id, "message_id": msg.id}
        assert await db(ReadState.objects.filter(user=alice, channel=general, last_read_id=msg.id).exists)()
        await b.still_open()  # bob's next frame is his heartbeat ack: alice's ack is hers alone
    async with gateway(alice) as a:
        assert a.ready["guilds"][0]["channels"][0]["unread"] == 0


# --- refused frames -------------------------------------------------------------------------------

@pytest.mark.parametrize("frame, code, extra", [
    ("{not json", "decode_error", {}),
    ("[1, 2]", "decode_error", {}),
    ('{"op": "1"}', "decode_error", {}),
    ('{"op": true}', "decode_error", {}),
    ('{"d": 1}', "decode_error", {}),
    ('{"op": 99}', "unknown_op", {"ref": 99}),
    ('{"op": 10, "d": null}', "unknown_op", {"ref": 10}),
    ('{"op": 6, "d": {"channel_id": "12", "content": "x"}}', "invalid_payload", {"field": "channel_id", "ref": 6}),
    ('{"op": 6, "d": {"channel_id": 12}}', "invalid_payload", {"field": "content", "ref": 6}),
    ('{"op": 6, "d": {"channel_id": 12, "content": "x", "nonce": 5}}', "invalid_payload", {"field": "nonce", "ref": 6}),
    ('{"op": 6, "d": {"channel_id": 12, "content": "x", "reply_to": "3"}}', "invalid_payload",
     {"field": "reply_to", "ref": 6}),
    ('{"op": 4, "d": [12]}', "invalid_payload", {"field": "d", "ref": 4}),
    ('{"op": 4, "d": {"channel_id": true}}', "invalid_payload", {"field": "channel_id", "ref": 4}),
    ('{"op": 7, "d": {"channel_id": 1}}', "invalid_payload", {"field": "message_id", "ref": 7}),
    # Text the database cannot store, wherever it is in d; JSON nested past any need.
    ('{"op": 6, "d": {"channel_id": 12, "content": "a\\u0000b"}}', "invalid_payload", {"field": "content", "ref": 6}),
    ('{"op": 6, "d": {"channel_id": 12, "content": "a\\ud800"}}', "invalid_payload", {"field": "content", "ref": 6}),
    ('{"op": 6, "d": {"channel_id": 12, "content": "x", "nonce": "\\udfff"}}', "invalid_payload",
     {"field": "nonce", "ref": 6}),
    ('{"op": 13, "d": {"to": 1, "type": "candidate", "candidate": {"c": ["\\u0000"]}}}', "invalid_payload",
     {"field": "candidate.c.0", "ref": 13}),
    pytest.param('{"op": 1, "d": ' + "[" * 5000 + "]" * 5000 + "}", "decode_error", {}, id="5000-nested-lists"),
    pytest.param('{"op": 6, "d": {"channel_id": 12, "content": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}}",
                 "decode_error", {}, id="40-nested-objects"),
])
@run_async
async def test_bad_frames_get_an_error_and_the_socket_stays_open(alice, frame, code, extra):
    async with gateway(alice) as gw:
        await gw.send_raw(text=frame)
        err = await gw.error()
        assert err["code"] == code and err["message"]
        assert {k: err.get(k) for k in extra} == extra
        if "ref" not in extra:
            assert "ref" not in err
        await gw.still_open()


@run_async
async def test_binary_frames_are_refused(alice):
    async with gateway(alice) as gw:
        await gw.send_raw(binary=b'{"op": 1, "d": null}')
        assert (await gw.error())["code"] == "decode_error"
        await gw.still_open()


@run_async
async def test_service_errors_become_error_frames(guild, owner, alice):
    general = await db(text_channel)(guild)
    elsewhere = await db(text_channel)(await db(make_guild)(name="Not alice's"))
    async with gateway(alice) as gw:
        await gw.send(6, {"channel_id": general.id, "content": "   ", "nonce": "n-empty"})
        err = await gw.error()
        assert (err["code"], err["ref"]) == ("validation_failed", "n-empty")
        assert err["fields"] == {"content": ["A message cannot be empty."]}
        for channel_id in (elsewhere.id, 10**9):
            await gw.send(6, {"channel_id": channel_id, "content": "hi", "nonce": "n-404"})
            assert await gw.error() == {"code": "not_found", "message": "Unknown channel.", "ref": "n-404"}
        await gw.send(7, {"channel_id": general.id, "message_id": 10**9})
        err = await gw.error()
        assert (err["code"], err["fields"], err["ref"]) == ("validation_failed", {"message_id": [
            "Unknown message in this channel."]}, 7)
        await gw.still_open()


@run_async
async def test_service_errors_speak_the_language_of_the_pages(guild, alice):
    general = await db(text_channel)(guild)
    french = [(b"accept-language", b"fr-FR,fr;q=0.9,en;q=0.5")]
    async with gateway(alice, headers=french) as gw:
        await gw.send(6, {"channel_id": general.id, "content": "  "})
        assert (await gw.error())["fields"] == {"content": ["Un message ne peut pas être vide."]}
        await gw.send(6, {"channel_id": 10**9, "content": "hi"})
        assert (await gw.error())["message"] == "Salon inconnu."
    # The language picked on the site (its cookie) wins over the browser's.
    english_browser = [(b"accept-language", b"en-US,en;q=0.9")]
    async with gateway(alice, headers=english_browser, cookies={settings.LANGUAGE_COOKIE_NAME: "fr"}) as gw:
        await gw.send(6, {"channel_id": 10**9, "content": "hi"})
        assert (await gw.error())["message"] == "Salon inconnu."
    async with gateway(alice, headers=english_browser) as gw:
        await gw.send(6, {"channel_id": 10**9, "content": "hi"})
        assert (await gw.error())["message"] == "Unknown channel."


@run_async
async def test_slow_mode_refusal_carries_retry_after(guild, owner, alice):
    general = await db(text_channel)(guild)
    await db(guilds.update_channel)(actor=owner, channel=general, slowmode_seconds=30)
    async with gateway(alice) as gw:
        await gw.send(6, {"channel_id": general.id, "content": "one", "nonce": "a"})
        assert (await gw.event("MESSAGE_CREATE"))["nonce"] == "a"
        await gw.send(6, {"channel_id": general.id, "content": "two", "nonce": "b"})
        err = await gw.error()
        assert (err["code"], err["ref"]) == ("rate_limited", "b")
        assert 25 <= err["retry_after"] <= 30
        await gw.still_open()
    assert await db(Message.objects.filter(channel=general).count)() == 1


@pytest.mark.parametrize("limit, payload", [
    (16 * 1024, "x" * (16 * 1024)),
    (1000, "é" * 600),  # 600 characters, but 1200 bytes
])
@run_async
async def test_oversized_frame_closes_4002(alice, settings, limit, payload):
    settings.GATEWAY_MAX_FRAME_BYTES = limit
    async with gateway(alice) as gw:
        await gw.send(6, {"channel_id": 1, "content": payload[: limit // 2 // len(payload[0].encode())]})
        assert (await gw.error())["code"] != "frame_too_large"  # half the limit passes the size check
        await gw.send(6, {"channel_id": 1, "content": payload})
        err = await gw.error()
        assert err["code"] == "frame_too_large"
        assert await gw.closed() == 4002


@run_async
async def test_more_frames_than_the_rate_limit_closes_4008(alice, settings):
    settings.GATEWAY_RATE_LIMIT = 5
    async with gateway(alice) as gw:
        await gw.send_raw(text="not json")  # every frame counts, refused ones too
        assert (await gw.error())["code"] == "decode_error"
        for _ in range(4):
            await gw.still_open()
        await gw.send(1, None)
        err = await gw.error()
        assert err["code"] == "rate_limited" and "retry_after" not in err
        assert await gw.closed() == 4008


# --- permissions change on live sockets ------------------------------------------------------------

@run_async
async def test_overwrite_denying_view_stops_delivery_and_sends(guild, owner, alice, bob):
    general = await db(text_channel)(guild)
    random = await db(guilds.create_channel)(actor=owner, guild=guild, name="random")
    async with gateway(alice) as a, gateway(bob) as b:
        ow = await db(guilds.set_overwrite)(actor=owner, channel=general, allow=0, deny=int(P.VIEW_CHANNEL),
                                            member=await db(member)(guild, alice))
        d = await a.event("PERMISSIONS_CHANGED")
        assert (d["guild_id"], d["channel_id"]) == (guild.id, general.id)
        assert [c["name"] for c in d["channels"]] == ["General", "random"]
        assert [c["name"] for c in (await b.event("PERMISSIONS_CHANGED"))["channels"]] == ["general", "General",
                                                                                            "random"]
        hidden = await db(send)(owner, general, "alice cannot see this")
        await a.send(6, {"channel_id": general.id, "content": "let me in", "nonce": "n"})
        assert await a.error() == {"code": "not_found", "message": "Unknown channel.", "ref": "n"}
        fence = await db(send)(owner, random, "fence")
        assert (await a.event("MESSAGE_CREATE"))["id"] == fence.id
        assert (await b.event("MESSAGE_CREATE"))["id"] == hidden.id
        assert (await b.event("MESSAGE_CREATE"))["id"] == fence.id

        await db(guilds.delete_overwrite)(actor=owner, overwrite=await db(PermissionOverwrite.objects.get)(pk=ow.pk))
        assert [c["name"] for c in (await a.event("PERMISSIONS_CHANGED"))["channels"]] == ["general", "General",
                                                                                            "random"]
        back = await db(send)(owner, general, "welcome back")
        assert (await a.event("MESSAGE_CREATE"))["id"] == back.id


@run_async
async def test_overwrite_on_a_channel_is_not_announced_to_members_who_never_saw_it(guild, owner, alice, bob, secret):
    random = await db(guilds.create_channel)(actor=owner, guild=guild, name="random")
    async with gateway(alice) as a, gateway(bob) as b:
        await db(guilds.set_overwrite)(actor=owner, channel=secret, allow=int(P.ADD_REACTIONS), deny=0,
                                       member=await db(member)(guild, alice))
        assert (await a.event("PERMISSIONS_CHANGED"))["channel_id"] == secret.id
        fence = await db(send)(owner, random, "fence")
        assert (await b.event("MESSAGE_CREATE"))["id"] == fence.id
        assert (await a.event("MESSAGE_CREATE"))["id"] == fence.id


@run_async
async def test_role_update_revoking_view_hides_every_channel(guild, owner, alice):
    general = await db(text_channel)(guild)
    async with gateway(alice) as a:
        await db(guilds.update_role)(actor=owner, role=await db(everyone)(guild),
                                     permissions=int(DEFAULT_EVERYONE & ~P.VIEW_CHANNEL))
        assert (await a.event("GUILD_ROLE_UPDATE"))["guild_id"] == guild.id
        assert (await a.event("PERMISSIONS_CHANGED"))["channels"] == []
        await db(send)(owner, general, "nobody but the owner sees this")
        await db(guilds.update_guild)(actor=owner, guild=guild, description="fence")
        assert (await a.event("GUILD_UPDATE"))["description"] == "fence"


@run_async
async def test_assigned_role_reveals_a_channel_live(guild, owner, alice, bob):
    hidden = await db(guilds.create_channel)(actor=owner, guild=guild, name="staff")
    insiders = await db(guilds.create_role)(actor=owner, guild=guild, name="insiders")
    await db(guilds.set_overwrite)(actor=owner, channel=hidden, allow=0, deny=int(P.VIEW_CHANNEL),
                                   role=await db(everyone)(guild))
    await db(guilds.set_overwrite)(actor=owner, channel=hidden, allow=int(P.VIEW_CHANNEL), deny=0, role=insiders)
    async with gateway(alice) as a:
        assert "staff" not in [c["name"] for c in a.ready["guilds"][0]["channels"]]
        await db(guilds.assign_role)(actor=owner, member=await db(member)(guild, alice), role=insiders)
        assert (await a.event("GUILD_MEMBER_UPDATE"))["roles"] == [insiders.id]
        assert "staff" in [c["name"] for c in (await a.event("PERMISSIONS_CHANGED"))["channels"]]
        msg = await db(send)(owner, hidden, "for insiders")
        assert (await a.event("MESSAGE_CREATE"))["id"] == msg.id

        role_id = insiders.id
        await db(guilds.delete_role)(actor=owner, role=insiders)
        assert (await a.event("GUILD_ROLE_DELETE"))["id"] == role_id
        assert "staff" not in [c["name"] for c in (await a.event("PERMISSIONS_CHANGED"))["channels"]]
        await db(send)(owner, hidden, "insiders only, and alice is no longer one")
        fence = await db(send)(owner, await db(text_channel)(guild), "fence")
        assert (await a.event("MESSAGE_CREATE"))["id"] == fence.id


@pytest.mark.parametrize("how", ["kick", "leave"])
@run_async
async def test_removed_member_gets_guild_delete_then_nothing_from_that_guild(guild, owner, alice, how):
    general = await db(text_channel)(guild)
    second = await db(make_guild)(owner, name="Second")
    await db(add_member)(second, user=alice)
    async with gateway(alice) as a:
        if how == "kick":
            await db(sanctions.kick_member)(actor=owner, member=await db(member)(guild, alice))
        else:
            await a.send(1, None)  # leaving is alice's own request: the REST API calls the same service
            assert (await a.frame())["op"] == 11
            await db(guilds.leave_guild)(user=alice, guild=guild)
        assert (await a.event("GUILD_MEMBER_REMOVE"))["user_id"] == alice.id
        assert await a.event("GUILD_DELETE") == {"id": guild.id}
        await db(send)(owner, general, "alice is gone")
        await db(guilds.update_guild)(actor=owner, guild=guild, name="Without Alice")
        fence = await db(send)(owner, await db(text_channel)(second), "still here")
        assert (await a.event("MESSAGE_CREATE"))["id"] == fence.id
        await a.still_open()


@run_async
async def test_deleted_guild_is_dropped_from_live_sockets(guild, owner, alice):
    second = await db(make_guild)(owner, name="Second")
    await db(add_member)(second, user=alice)
    guild_id = guild.id
    async with gateway(alice) as a:
        await db(guilds.delete_guild)(actor=owner, guild=guild)
        assert await a.event("GUILD_DELETE") == {"id": guild_id}
        fence = await db(send)(owner, await db(text_channel)(second), "still here")
        assert (await a.event("MESSAGE_CREATE"))["id"] == fence.id


@run_async
async def test_banned_member_gets_ban_add_then_close_4010(guild, owner, alice, bob):
    async with gateway(alice) as a, gateway(bob) as b:
        await db(sanctions.ban_member)(actor=owner, guild=guild, user=alice, reason="spam")
        assert await a.event("GUILD_BAN_ADD") == {"guild_id": guild.id, "user_id": alice.id}
        assert await a.closed() == 4010
        assert await b.event("GUILD_BAN_ADD") == {"guild_id": guild.id, "user_id": alice.id}
        assert (await b.event("GUILD_MEMBER_REMOVE"))["user_id"] == alice.id
        await b.still_open()


@run_async
async def test_ban_closes_4010_even_when_ban_add_never_reaches_the_socket(guild, owner, alice):
    """A connection that is not (or no longer) in the guild group only sees GUILD_DELETE on its user
    group; it must still learn it was a ban."""
    async with gateway(alice) as a:
        # The ban's rows, then only the user-group half of its events.
        await db(Ban.objects.create)(guild=guild, user=alice, banned_by=owner)
        await db(lambda: member(guild, alice).delete())()
        await hub.publish_async([f"user.{alice.id}"], "GUILD_DELETE", {"id": guild.id})
        assert await a.event("GUILD_DELETE") == {"id": guild.id}
        assert await a.event("GUILD_BAN_ADD") == {"guild_id": guild.id, "user_id": alice.id}
        assert await a.closed() == 4010


@run_async
async def test_events_that_raced_the_unsubscribe_are_not_relayed(guild, owner, alice):
    general = await db(text_channel)(guild)
    second = await db(make_guild)(owner, name="Second")
    await db(add_member)(second, user=alice)
    async with gateway(alice) as a:
        [connection] = watchdog().watched
        await db(sanctions.kick_member)(actor=owner, member=await db(member)(guild, alice))
        await a.event("GUILD_MEMBER_REMOVE")
        assert await a.event("GUILD_DELETE") == {"id": guild.id}
        # Published to the guild just before the connection left its group, delivered just after.
        late = [("MESSAGE_CREATE", {"id": 10**9, "channel_id": general.id, "guild_id": guild.id, "content": "late"}),
                ("GUILD_UPDATE", {"id": guild.id, "name": "late"}),
                ("GUILD_MEMBER_ADD", {"guild_id": guild.id, "user_id": owner.id})]
        for t, d in late:
            connection.relay(hub.Event(t, d, hub.frame_prefix(t, json.dumps(d))))
        fence = await db(send)(owner, await db(text_channel)(second), "fence")
        d = await a.event("MESSAGE_CREATE")
        assert (d["id"], d["content"]) == (fence.id, "fence")


@run_async
async def test_events_held_in_the_inbox_keep_their_order_with_those_relayed_at_once(guild, owner, alice):
    general = await db(text_channel)(guild)
    async with gateway(alice) as a:
        [connection] = watchdog().watched

        def message(content):
            d = {"id": 10**9, "channel_id": general.id, "guild_id": guild.id, "content": content}
            return hub.Event("MESSAGE_CREATE", d, hub.frame_prefix("MESSAGE_CREATE", json.dumps(d)))

        connection._hold()  # as while a request reads state: events wait behind its answer
        connection.relay(message("held 1"))
        connection.relay(message("held 2"))
        connection._dispatch("MESSAGE_CREATE", {"id": 1, "channel_id": general.id, "content": "answer"})
        await connection._release()
        connection.relay(message("after"))  # no inbox any more: written at once
        assert [(await a.event("MESSAGE_CREATE"))["content"] for _ in range(4)] == ["answer", "held 1", "held 2",
                                                                                   "after"]


@run_async
async def test_timed_out_member_still_receives_but_cannot_send(guild, owner, alice):
    general = await db(text_channel)(guild)
    async with gateway(alice) as a:
        await db(sanctions.timeout_member)(actor=owner, member=await db(member)(guild, alice),
                                           duration=timedelta(minutes=10))
        assert (await a.event("GUILD_MEMBER_UPDATE"))["timed_out_until"] is not None
        assert [c["name"] for c in (await a.event("PERMISSIONS_CHANGED"))["channels"]] == ["general", "General"]
        msg = await db(send)(owner, general, "you can still read")
        assert (await a.event("MESSAGE_CREATE"))["id"] == msg.id
        until = (await db(member)(guild, alice)).timed_out_until
        await a.send(6, {"channel_id": general.id, "content": "let me talk", "nonce": "t-1"})
        # Told until when (and when in a form a client can show in its reader's time zone).
        assert await a.error() == {"code": "timed_out", "message": f"You are timed out until {shown_time(until)}.",
                                   "permission": "SEND_MESSAGES", "timed_out_until": until.isoformat(), "ref": "t-1"}
        await a.send(4, {"channel_id": general.id})
        err = await a.error()
        assert (err["code"], err["permission"], err["ref"]) == ("timed_out", "SEND_MESSAGES", 4)
        await a.still_open()
    assert not await db(Message.objects.filter(author=alice).exists)()


@run_async
async def test_connection_ends_when_its_client_leaves_right_after_an_event(guild, owner, alice):
    """The consumer must stop when the socket goes, whatever it was doing, right after relaying an
    event included."""
    general = await db(text_channel)(guild)
    for i in range(20):
        async with gateway(alice) as gw:
            await db(send)(owner, general, f"message {i}")
            await gw.event("MESSAGE_CREATE")
            await gw.comm.send_input({"type": "websocket.disconnect", "code": 1000})
            await asyncio.wait([gw.comm.future], timeout=0.5)
            assert gw.comm.future.done(), f"connection {i} is still running after its client left"
