"""The bot gateway (/gateway/discord) on a real server, driven frame by frame as a Discord library
would: bad tokens, double identify, intents, oversized frames, resume errors, the MESSAGE_CONTENT
rule, and a token reset closing the bot's socket."""
from __future__ import annotations

import json
import time
from contextlib import ExitStack

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from apps.bots import services as bots
from apps.chat import services as chat
from apps.guilds.models import Channel
from apps.guilds.permissions import Permission
from tests.servers import running_server

pytestmark = pytest.mark.django_db(transaction=True)

GUILDS, GUILD_MESSAGES, MESSAGE_CONTENT, GUILD_MEMBERS, GUILD_PRESENCES = 1 << 0, 1 << 9, 1 << 15, 1 << 1, 1 << 8
GUILD_VOICE_STATES = 1 << 7
READ_AND_SEND = int(Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.READ_MESSAGE_HISTORY)


@pytest.fixture(scope="module")
def base(django_db_setup, django_db_blocker):
    with running_server() as url:
        yield url


@pytest.fixture
def bot(guild, owner):
    app, token = bots.create_application(owner=owner, name="Gatebot")
    bots.authorize_bot(actor=owner, application=app, guild_id=guild.id, permissions=READ_AND_SEND)
    app.token = token
    return app


class Bot:
    def __init__(self, ws):
        self.ws = ws

    def send(self, op, d=None):
        self.ws.send(json.dumps({"op": op, "d": d}))

    def frame(self, timeout=5) -> dict:
        return json.loads(self.ws.recv(timeout=timeout))

    def dispatch(self, t: str, timeout=5) -> dict:
        """The next dispatch of type t (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            f = self.frame(max(0.1, deadline - time.monotonic()))
            if f["op"] == 0 and f["t"] == t:
                return f

    def closed_with(self, timeout=5) -> int:
        with pytest.raises(ConnectionClosed) as exc:
            while True:
                self.frame(timeout)
        return exc.value.rcvd.code

    def identify(self, token, intents=GUILDS | GUILD_MESSAGES):
        self.send(2, {"token": token, "intents": intents, "properties": {"os": "linux", "browser": "test",
                                                                         "device": "test"}})


@pytest.fixture
def socket(base):
    """Opens bot sockets past HELLO; all are closed when the test ends."""
    with ExitStack() as stack:
        def open_socket():
            ws = stack.enter_context(connect(base.replace("http://", "ws://") + "/gateway/discord?v=10&encoding=json",
                                             open_timeout=10))
            b = Bot(ws)
            hello = b.frame()
            assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
            return b

        yield open_socket


def test_identify_gets_ready_then_guild_create_and_heartbeats_are_acked(socket, bot, guild):
    b = socket()
    b.identify(bot.token)
    ready = b.dispatch("READY")
    assert ready["s"] == 1
    d = ready["d"]
    assert d["user"] == {**d["user"], "id": str(bot.bot_id), "bot": True}
    assert d["guilds"] == [{"id": str(guild.id), "unavailable": True}]
    assert d["session_id"] and d["resume_gateway_url"].endswith("/gateway/discord")
    created = b.dispatch("GUILD_CREATE")
    assert created["s"] == 2 and created["d"]["name"] == guild.name
    assert "general" in [c["name"] for c in created["d"]["channels"]]
    managed = [r for r in created["d"]["roles"] if r["managed"]]
    assert [r["name"] for r in managed] == ["Gatebot"]
    b.send(1, 2)
    assert b.frame()["op"] == 11
    b.ws.close()


def test_bad_tokens_double_identify_and_ops_before_identify_are_closed_with_discord_codes(socket, bot):
    b = socket()
    b.identify("not-a-token")
    assert b.closed_with() == 4004

    b = socket()
    b.send(3, {"status": "online", "since": 0, "activities": [], "afk": False})
    assert b.closed_with() == 4003

    b = socket()
    b.identify(bot.token)
    b.dispatch("GUILD_CREATE")
    b.identify(bot.token)
    assert b.closed_with() == 4005

    b = socket()
    b.send(99, {})
    assert b.closed_with() == 4001

    b = socket()
    b.ws.send("{" * 10 + "x" * 5000)
    assert b.closed_with() == 4002

    b = socket()
    b.ws.send("this is not json")
    assert b.closed_with() == 4002


def test_intents_must_be_known_and_privileged_ones_turned_on(socket, bot, owner):
    b = socket()
    b.identify(bot.token, intents=1 << 40)
    assert b.closed_with() == 4013

    b = socket()
    b.identify(bot.token, intents=GUILDS | MESSAGE_CONTENT)
    assert b.closed_with() == 4014

    bots.set_intents(actor=owner, application=bot, members=True, presence=False, message_content=True)
    b = socket()
    b.identify(bot.token, intents=GUILDS | GUILD_MEMBERS | MESSAGE_CONTENT)
    assert b.dispatch("READY")["d"]["application"]["id"] == str(bot.id)
    b.ws.close()


def test_without_the_message_content_intent_content_is_empty_unless_the_bot_is_mentioned(socket, bot, guild, alice):
    general = Channel.objects.get(guild=guild, name="general")
    b = socket()
    b.identify(bot.token, intents=GUILDS | GUILD_MESSAGES)
    b.dispatch("GUILD_CREATE")
    chat.send_message(author=alice, channel_id=general.id, content="a secret for humans")
    plain = b.dispatch("MESSAGE_CREATE")["d"]
    assert plain["content"] == "" and plain["author"]["id"] == str(alice.id) and plain["channel_id"] == str(general.id)
    chat.send_message(author=alice, channel_id=general.id, content=f"<@{bot.bot_id}> hello bot")
    mentioned = b.dispatch("MESSAGE_CREATE")["d"]
    assert mentioned["content"] == f"<@{bot.bot_id}> hello bot"
    assert [u["id"] for u in mentioned["mentions"]] == [str(bot.bot_id)]
    b.ws.close()

    # No GUILD_MESSAGES intent: no message events at all.
    b = socket()
    b.identify(bot.token, intents=GUILDS)
    b.dispatch("GUILD_CREATE")
    chat.send_message(author=alice, channel_id=general.id, content="unseen")
    b.send(1, None)
    assert b.frame() == {"op": 11, "d": None, "s": None, "t": None}
    b.ws.close()


def test_resume_with_a_wrong_session_or_a_seq_from_the_future_is_an_invalid_session(socket, bot):
    b = socket()
    b.identify(bot.token)
    session = b.dispatch("READY")["d"]["session_id"]
    b.dispatch("GUILD_CREATE")
    b.ws.close()

    r = socket()
    r.send(6, {"token": bot.token, "session_id": "no-such-session", "seq": 1})
    assert r.frame() == {"op": 9, "d": False, "s": None, "t": None}

    r = socket()
    r.send(6, {"token": bot.token, "session_id": session, "seq": 999})
    assert r.frame()["op"] == 9

    r = socket()
    r.send(6, {"token": "wrong", "session_id": session, "seq": 2})
    assert r.closed_with() == 4004

    r = socket()
    r.send(6, {"token": bot.token, "session_id": session, "seq": 2})
    resumed = r.dispatch("RESUMED")
    assert resumed["s"] == 3
    r.ws.close()


def test_a_token_reset_closes_the_bots_socket_and_the_old_token_stops_working(socket, bot, owner):
    b = socket()
    b.identify(bot.token)
    b.dispatch("GUILD_CREATE")
    bots.reset_token(actor=owner, application=bot)
    assert b.closed_with() == 4004
    again = socket()
    again.identify(bot.token)
    assert again.closed_with() == 4004


def test_a_bot_that_stops_heartbeating_is_closed_and_can_resume(bot):
    with running_server(env={"GATEWAY_HEARTBEAT_INTERVAL_MS": "400"}) as url:
        address = url.replace("http://", "ws://") + "/gateway/discord?v=10&encoding=json"
        with connect(address, open_timeout=10) as ws:
            b = Bot(ws)
            assert b.frame()["d"]["heartbeat_interval"] == 400
            b.identify(bot.token)
            session = b.dispatch("READY")["d"]["session_id"]
            b.dispatch("GUILD_CREATE")
            assert b.closed_with(timeout=5) == 4009
        with connect(address, open_timeout=10) as ws:
            b = Bot(ws)
            b.frame()
            b.send(6, {"token": bot.token, "session_id": session, "seq": 2})
            assert b.dispatch("RESUMED")["s"] == 3


def test_events_arrive_in_discords_shapes_for_the_intents_asked(socket, bot, guild, owner, alice):
    from apps.dms import services as dms
    from apps.guilds import invites
    from apps.guilds import services as guilds
    from tests.factories import UserFactory

    bots.set_intents(actor=owner, application=bot, members=True, presence=False, message_content=True)
    general = Channel.objects.get(guild=guild, name="general")
    b = socket()
    b.identify(bot.token, intents=GUILDS | GUILD_MEMBERS | GUILD_MESSAGES | MESSAGE_CONTENT | (1 << 10) | (1 << 11)
               | (1 << 12))
    b.dispatch("GUILD_CREATE")

    msg = chat.send_message(author=alice, channel_id=general.id, content="first")
    created = b.dispatch("MESSAGE_CREATE")["d"]
    assert (created["id"], created["content"], created["guild_id"]) == (str(msg.id), "first", str(guild.id))
    assert created["member"]["roles"] == [] and created["author"]["bot"] is False
    chat.edit_message(actor=alice, message=msg, content="first, edited")
    assert b.dispatch("MESSAGE_UPDATE")["d"]["content"] == "first, edited"
    chat.add_reaction(actor=alice, message=msg, emoji="🎵")
    reaction = b.dispatch("MESSAGE_REACTION_ADD")["d"]
    assert (reaction["user_id"], reaction["message_id"], reaction["emoji"]) == (str(alice.id), str(msg.id),
                                                                                {"id": None, "name": "🎵"})
    chat.remove_reaction(actor=alice, message=msg, emoji="🎵")
    assert b.dispatch("MESSAGE_REACTION_REMOVE")["d"]["emoji"]["name"] == "🎵"
    chat.start_typing(user=alice, channel_id=general.id)
    typing = b.dispatch("TYPING_START")["d"]
    assert (typing["user_id"], typing["channel_id"]) == (str(alice.id), str(general.id))
    msg_id = msg.id
    chat.delete_message(actor=alice, message=msg)
    assert b.dispatch("MESSAGE_DELETE")["d"] == {"id": str(msg_id), "channel_id": str(general.id),
                                                 "guild_id": str(guild.id)}

    lounge = guilds.create_channel(actor=owner, guild=guild, name="lounge")
    lounge_id = lounge.id
    made = b.dispatch("CHANNEL_CREATE")["d"]
    assert (made["id"], made["name"], made["type"]) == (str(lounge_id), "lounge", 0)
    guilds.delete_channel(actor=owner, channel=lounge)
    assert b.dispatch("CHANNEL_DELETE")["d"]["id"] == str(lounge_id)

    newcomer = UserFactory(username="newcomer")
    invite = invites.create_invite(actor=owner, guild=guild)
    invites.join_by_invite(user=newcomer, code=invite.code)
    joined = b.dispatch("GUILD_MEMBER_ADD")["d"]
    assert (joined["guild_id"], joined["user"]["username"]) == (str(guild.id), "newcomer")

    dm, _ = dms.open_dm(user=alice, recipient_id=bot.bot_id)
    chat.send_message(author=alice, channel_id=dm.id, content="psst, bot")
    direct = b.dispatch("MESSAGE_CREATE")["d"]
    assert (direct["content"], direct["channel_id"]) == ("psst, bot", str(dm.id))
    assert "guild_id" not in direct  # absent in a DM, not null: discord.py takes a KeyError to mean a DM


def test_with_the_presences_intent_a_bot_sees_members_come_online_and_leave(socket, bot, guild, owner, alice, base):
    from django.conf import settings
    from django.test import Client

    bots.set_intents(actor=owner, application=bot, members=True, presence=True, message_content=False)
    b = socket()
    b.identify(bot.token, intents=GUILDS | GUILD_MEMBERS | GUILD_PRESENCES)
    created = b.dispatch("GUILD_CREATE")["d"]
    assert str(alice.id) not in [p["user"]["id"] for p in created["presences"]]  # alice has no tab open

    client = Client()
    client.force_login(alice)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    def browser_tab():
        return connect(base.replace("http://", "ws://") + "/ws/gateway/", open_timeout=10,
                       additional_headers={"Cookie": cookie, "Origin": base})

    with browser_tab():
        online = b.dispatch("PRESENCE_UPDATE", timeout=10)["d"]
        assert (online["user"]["id"], online["guild_id"], online["status"]) == (str(alice.id), str(guild.id), "online")
        assert online["client_status"] == {"web": "online"}
        again = socket()  # a bot identifying now finds alice online in GUILD_CREATE
        again.identify(bot.token, intents=GUILDS | GUILD_MEMBERS | GUILD_PRESENCES)
        listed = {p["user"]["id"]: p["status"] for p in again.dispatch("GUILD_CREATE")["d"]["presences"]}
        assert listed[str(alice.id)] == "online"
    offline = b.dispatch("PRESENCE_UPDATE", timeout=10)["d"]
    assert (offline["user"]["id"], offline["status"]) == (str(alice.id), "offline")

    quiet = socket()  # without the intent (members only), no presence reaches the bot
    quiet.identify(bot.token, intents=GUILDS | GUILD_MEMBERS)
    assert quiet.dispatch("GUILD_CREATE")["d"]["presences"] == []
    with browser_tab():
        assert b.dispatch("PRESENCE_UPDATE", timeout=10)["d"]["status"] == "online"  # the other one hears it
        with pytest.raises(TimeoutError):
            quiet.dispatch("PRESENCE_UPDATE", timeout=2)


def test_with_the_voice_states_intent_a_bot_sees_who_is_in_voice(socket, bot, guild, owner, alice):
    from apps.guilds import services as guilds
    from apps.rtc import services as rtc

    lounge = guilds.create_channel(actor=owner, guild=guild, name="Lounge", type=Channel.Type.VOICE)
    b = socket()
    b.identify(bot.token, intents=GUILDS | GUILD_VOICE_STATES)
    assert b.dispatch("GUILD_CREATE")["d"]["voice_states"] == []

    rtc.join_voice(user=alice, session_id="alice-tab", channel_id=lounge.id, self_mute=True)
    joined = b.dispatch("VOICE_STATE_UPDATE", timeout=10)["d"]
    assert (joined["guild_id"], joined["channel_id"], joined["user_id"], joined["self_mute"]) == (
        str(guild.id), str(lounge.id), str(alice.id), True)
    assert joined["member"]["user"]["username"] == alice.username

    late = socket()  # a bot identifying now finds alice in the lounge
    late.identify(bot.token, intents=GUILDS | GUILD_VOICE_STATES)
    [state] = late.dispatch("GUILD_CREATE")["d"]["voice_states"]
    assert (state["channel_id"], state["user_id"]) == (str(lounge.id), str(alice.id))

    rtc.leave_voice(user=alice, session_id="alice-tab", guild_id=guild.id)
    left = b.dispatch("VOICE_STATE_UPDATE", timeout=10)["d"]
    assert (left["user_id"], left["channel_id"]) == (str(alice.id), None)

    blind = socket()  # without the intent: no voice states at all
    blind.identify(bot.token, intents=GUILDS)
    assert blind.dispatch("GUILD_CREATE")["d"]["voice_states"] == []
    rtc.join_voice(user=alice, session_id="alice-tab", channel_id=lounge.id)
    assert b.dispatch("VOICE_STATE_UPDATE", timeout=10)["d"]["channel_id"] == str(lounge.id)
    with pytest.raises(TimeoutError):
        blind.dispatch("VOICE_STATE_UPDATE", timeout=2)
    rtc.leave_voice(user=alice, session_id="alice-tab", guild_id=guild.id)


def test_one_bot_opening_more_sockets_than_the_cap_is_refused_with_4008_until_one_closes(bot):
    """An account's sockets per process are capped (GATEWAY_MAX_SOCKETS_PER_USER), bots included."""
    with running_server(env={"GATEWAY_MAX_SOCKETS_PER_USER": "3"}) as url:
        with ExitStack() as stack:
            def identified() -> Bot:
                ws = stack.enter_context(connect(url.replace("http://", "ws://") + "/gateway/discord?v=10",
                                                 open_timeout=10))
                b = Bot(ws)
                assert b.frame()["op"] == 10
                b.identify(bot.token)
                return b

            shards = [identified() for _ in range(3)]
            for b in shards:
                assert b.dispatch("READY")["d"]["user"]["id"] == str(bot.bot_id)
            extra = identified()
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    extra.frame()
            assert closed.value.rcvd.code == 4008  # Discord's "rate limited": discord.py retries later
            shards[0].ws.close()
            time.sleep(0.5)  # the server sees the close
            assert identified().dispatch("READY")["op"] == 0
