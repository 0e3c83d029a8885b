"""Voice rooms through real gateway sockets (the whole ASGI stack, Redis, PostgreSQL): joining,
who sees whom, signaling to one peer, limits and moderation. What each socket receives is what
a user's browser would show.

"Receives nothing" is proven with a fence, as in test_gateway.py: after what a socket must not
see, something it must see happens; its next frame has to be that."""
from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.test import Client

from apps.core.errors import MissingPermission
from apps.guilds import sanctions
from apps.guilds import services as guilds
from apps.guilds.models import Channel
from apps.guilds.permissions import Permission
from apps.rtc import services as rtc
from apps.rtc.store import store
from tests.factories import UserFactory, add_member, add_member_with, make_guild
from tests.integration.test_gateway import db, everyone, gateway, member, run_async

pytestmark = pytest.mark.django_db(transaction=True)
P = Permission
JOIN, SIGNAL, REQUEST_STATES = 12, 13, 14
# Frames a socket gets as rooms change around it, skipped when a test waits for something else.
NOISE = {"VOICE_QUALITY_UPDATE", "PRESENCE_UPDATE", "PERMISSIONS_CHANGED"}


@pytest.fixture(autouse=True)
def _fresh_voice_state():
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    for key in client.scan_iter("smartc:voice:*"):
        client.delete(key)


@pytest.fixture
def voice(guild):
    return Channel.objects.get(guild=guild, type="voice")


async def join(gw, channel, **flags):
    """Join a voice channel; returns the join answer (VOICE_READY). Others' earlier changes that
    arrive first are passed over; the answer comes before the events of this join."""
    await gw.send(JOIN, {"guild_id": channel.guild_id, "channel_id": channel.id, **flags})
    return await next_event(gw, "VOICE_READY", skip=NOISE | {"VOICE_STATE_UPDATE"})


async def next_event(gw, t, skip=NOISE, timeout=3):
    """The next DISPATCH of `t`, passing over room noise (ladder steps) but nothing else."""
    while True:
        f = await gw.frame(timeout)
        if f["op"] == 0 and f["t"] == t:
            return f["d"]
        assert f["op"] == 0 and f["t"] in skip, f


async def state_update(gw, user, **expected):
    d = await next_event(gw, "VOICE_STATE_UPDATE")
    assert d["user_id"] == user.id, d
    for k, v in expected.items():
        assert d[k] == v, (k, d)
    return d


async def error(gw, skip=NOISE):
    while True:
        f = await gw.frame()
        if f["op"] == 9:
            return f["d"]
        assert f["op"] == 0 and f["t"] in skip, f


def api_client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def patch_voice(user, guild, target, body):
    r = api_client(user).patch(f"/api/guilds/{guild.id}/voice-states/{target.id}", json.dumps(body),
                               content_type="application/json")
    return r.status_code, (r.json() if r.content else None)


# --- joining ---------------------------------------------------------------------------------------

@run_async
async def test_joining_needs_connect(guild, owner, alice, voice):
    await db(guilds.set_overwrite)(actor=owner, channel=voice, allow=0, deny=int(P.CONNECT),
                                   role=await db(everyone)(guild))
    async with gateway(alice) as gw:
        await gw.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id})
        err = await error(gw)
        assert err["code"] == "missing_permission" and err["permission"] == "CONNECT"
        assert err["ref"] == JOIN
        await gw.still_open()
    async with gateway(owner) as gw:  # the owner has every permission
        answer = await join(gw, voice)
        assert [s["user_id"] for s in answer["voice_states"]] == [owner.id]


@run_async
async def test_the_join_answer_carries_the_room_ice_servers_and_ladder_step(guild, owner, alice, voice, settings):
    settings.TURN_URLS = ["turn:127.0.0.1:3478"]
    settings.TURN_SECRET = "secret"
    async with gateway(owner) as o, gateway(alice) as a:
        first = await join(o, voice, self_mute=True)
        assert first["topology"] == "mesh" and first["quality"]["participants"] == 1
        assert first["self"]["self_mute"] is True and first["self"]["session_id"] == o.ready["session_id"]
        answer = await join(a, voice)
        assert answer["quality"] == {"participants": 2, "max_bitrate": 800_000, "max_height": 720,
                                     "max_framerate": 30, "audio_bitrate": 32_000}
        assert {s["user_id"] for s in answer["voice_states"]} == {owner.id, alice.id}
        turn = answer["ice_servers"][-1]
        assert turn["urls"] == ["turn:127.0.0.1:3478"] and turn["username"].endswith(f":{alice.id}")
        # The one already there hears of the new step.
        await state_update(o, owner, channel_id=voice.id)  # its own join
        step = await next_event(o, "VOICE_QUALITY_UPDATE", skip=set())
        await state_update(o, alice, channel_id=voice.id)
        step = await next_event(o, "VOICE_QUALITY_UPDATE", skip=set())
        assert step == {"guild_id": guild.id, "channel_id": voice.id, "quality": answer["quality"]}


@run_async
async def test_a_full_channel_refuses_the_next_member(guild, owner, alice, bob, voice):
    await db(guilds.update_channel)(actor=owner, channel=voice, user_limit=1)
    async with gateway(alice) as a, gateway(bob) as b:
        await join(a, voice)
        await state_update(b, alice, channel_id=voice.id)
        await b.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id})
        err = await error(b)
        assert err == {"code": "voice_channel_full", "message": "This voice channel is full.", "ref": JOIN}
        await b.send(REQUEST_STATES, {"guild_id": guild.id})
        d = await next_event(b, "VOICE_STATES")
        assert [s["user_id"] for s in d["voice_states"]] == [alice.id]


@run_async
async def test_a_room_past_the_mesh_size_without_a_media_server_is_refused(guild, owner, alice, bob, voice, settings):
    settings.RTC_MESH_MAX = 2
    settings.JANUS_URL = ""
    async with gateway(owner) as o, gateway(alice) as a, gateway(bob) as b:
        await join(o, voice)
        await join(a, voice)
        await b.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id})
        err = await error(b, skip=NOISE | {"VOICE_STATE_UPDATE"})
        assert err["code"] == "sfu_unavailable"
        assert err["message"] == "This room is full for a direct call; no media server is configured."


# --- who sees whom -----------------------------------------------------------------------------------

@run_async
async def test_members_see_a_participant_join_change_and_leave(guild, alice, bob, voice):
    async with gateway(bob) as b:
        async with gateway(alice) as a:
            answer = await join(a, voice)
            d = await state_update(b, alice, channel_id=voice.id, self_mute=False)
            assert d["session_id"] == answer["session_id"] == a.ready["session_id"]
            assert d["guild_id"] == guild.id and d["mute"] is False and d["self_video"] is False

            await a.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id, "self_mute": True, "self_video": True})
            await state_update(b, alice, channel_id=voice.id, self_mute=True, self_video=True)

            await b.send(REQUEST_STATES, {"guild_id": guild.id})
            d = await next_event(b, "VOICE_STATES")
            assert [(s["user_id"], s["channel_id"], s["self_mute"]) for s in d["voice_states"]] == [
                (alice.id, voice.id, True)]

            await a.send(JOIN, {"guild_id": guild.id, "channel_id": None})
            await state_update(b, alice, channel_id=None)
            await b.send(REQUEST_STATES, {"guild_id": guild.id})
            assert (await next_event(b, "VOICE_STATES"))["voice_states"] == []


@run_async
async def test_camera_and_screen_share_need_stream_a_refused_flag_changes_nothing(guild, owner, alice, bob, voice):
    async with gateway(bob) as b, gateway(alice) as a:
        await join(a, voice, self_video=True)
        await state_update(b, alice, channel_id=voice.id, self_video=True)
        await a.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id, "self_video": True, "self_stream": True})
        await state_update(b, alice, self_video=True, self_stream=True)
        await a.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id, "self_stream": False})
        await state_update(b, alice, self_video=True, self_stream=False)

        await db(guilds.set_overwrite)(actor=owner, channel=voice, allow=0, deny=int(P.STREAM),
                                       member=await db(member)(guild, alice))
        # Sharing the screen now is refused, and says why; the camera already on is left alone.
        await a.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id, "self_video": True, "self_stream": True})
        err = await error(a, skip=NOISE | {"VOICE_STATE_UPDATE"})
        assert err["code"] == "missing_permission" and err["permission"] == "STREAM" and err["ref"] == JOIN
        assert "share your screen" in err["message"]
        await a.still_open()
        # Other flags still change; the camera that was on from before goes off.
        await a.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id, "self_mute": True, "self_video": True})
        await state_update(b, alice, self_mute=True, self_video=False, self_stream=False)
        # Turning the camera back on is refused too; bob saw nothing of the refusals.
        await a.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id, "self_video": True})
        assert (await error(a, skip=NOISE | {"VOICE_STATE_UPDATE"}))["permission"] == "STREAM"
        await a.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id, "self_mute": False})
        await state_update(b, alice, self_mute=False, self_video=False)


@run_async
async def test_closing_the_socket_removes_the_participant_for_the_others(guild, alice, bob, voice):
    async with gateway(bob) as b:
        async with gateway(alice) as a:
            await join(a, voice)
            await state_update(b, alice, channel_id=voice.id)
        # alice's tab is gone: no ghost.
        await state_update(b, alice, channel_id=None)
        await b.send(REQUEST_STATES, {"guild_id": guild.id})
        assert (await next_event(b, "VOICE_STATES"))["voice_states"] == []


@run_async
async def test_a_participant_whose_heartbeats_stop_is_removed_and_one_who_beats_stays(guild, alice, bob, voice,
                                                                                       settings):
    settings.GATEWAY_HEARTBEAT_INTERVAL_MS = 1000  # the watchdog closes a silent socket after 1.5 s
    async with gateway(alice) as a, gateway(bob) as b:
        await join(a, voice)
        await join(b, voice)
        # bob's browser keeps beating; alice's has hung. The watchdog closes her socket (4009), the
        # server then tells the application the connection ended, and bob sees her go.
        left = closed = None
        while left is None:
            await b.send(1, b.seq)
            while (f := await b.frame())["op"] != 11:
                if f["t"] == "VOICE_STATE_UPDATE" and f["d"]["channel_id"] is None:
                    left = f["d"]
            await asyncio.sleep(0.1)
            while closed is None and not a.comm.output_queue.empty():
                out = a.comm.output_queue.get_nowait()
                if out["type"] == "websocket.close":
                    closed = out["code"]
                    await a.comm.send_input({"type": "websocket.disconnect", "code": closed})
        assert closed == 4009
        assert left["user_id"] == alice.id
        for _ in range(6):  # past the heartbeat deadline again: bob's beats keep him in
            await b.send(1, b.seq)
            while (await b.frame())["op"] != 11:
                pass
            await asyncio.sleep(0.3)
        await b.send(REQUEST_STATES, {"guild_id": guild.id})
        while (f := await b.frame())["op"] == 11 or f["t"] != "VOICE_STATES":
            pass
        assert [s["user_id"] for s in f["d"]["voice_states"]] == [bob.id]


@run_async
async def test_joining_from_another_tab_replaces_the_first_session(guild, alice, bob, voice):
    async with gateway(bob) as b, gateway(alice) as first, gateway(alice) as second:
        await join(first, voice)
        await state_update(b, alice, session_id=first.ready["session_id"])
        await join(second, voice)
        # The first tab sees its user now in the call from another session: it leaves the call.
        await state_update(first, alice, session_id=first.ready["session_id"])
        await state_update(first, alice, session_id=second.ready["session_id"])
        await state_update(b, alice, session_id=second.ready["session_id"])
        await b.send(REQUEST_STATES, {"guild_id": guild.id})
        d = await next_event(b, "VOICE_STATES")
        assert [(s["user_id"], s["session_id"]) for s in d["voice_states"]] == [(alice.id, second.ready["session_id"])]


@run_async
async def test_an_expired_participant_is_announced_gone_at_the_next_change(guild, owner, alice, bob, voice):
    """A node that crashed never closes its sockets: their entries run out, and the next write in
    the guild announces them gone."""
    crashed = {"guild_id": guild.id, "channel_id": voice.id, "user_id": alice.id, "session_id": "crashed-node",
               "self_mute": False, "self_deaf": False, "self_video": False, "self_stream": False,
               "mute": False, "deaf": False}
    async with gateway(owner) as o:
        await db(store().join)(crashed, 0, 1.0)  # written by the node that crashed: no heartbeat follows
        await o.send(REQUEST_STATES, {"guild_id": guild.id})
        assert [s["user_id"] for s in (await next_event(o, "VOICE_STATES"))["voice_states"]] == [alice.id]
        await asyncio.sleep(1.2)
        await o.send(REQUEST_STATES, {"guild_id": guild.id})
        assert (await next_event(o, "VOICE_STATES"))["voice_states"] == []
        async with gateway(bob) as b:
            answer = await join(b, voice)
            assert [s["user_id"] for s in answer["voice_states"]] == [bob.id]
        await state_update(o, alice, channel_id=None, session_id="crashed-node")
        await state_update(o, bob, channel_id=voice.id)


# --- signaling ---------------------------------------------------------------------------------------

OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


async def room_of_three(o, a, b, c, voice, owner, alice, bob, carol):
    """alice, bob and carol in the room, each having seen the others arrive; owner watches."""
    for gw in (a, b, c):
        await join(gw, voice)
    for gw, who in ((o, (alice, bob, carol)), (a, (alice, bob, carol)), (b, (bob, carol)), (c, (carol,))):
        for user in who:
            await state_update(gw, user, channel_id=voice.id)


@run_async
async def test_a_signal_reaches_only_the_addressed_participant(guild, owner, alice, bob, carol, voice):
    async with gateway(owner) as o, gateway(alice) as a, gateway(bob) as b, gateway(carol) as c:
        await room_of_three(o, a, b, c, voice, owner, alice, bob, carol)
        await a.send(SIGNAL, {"to": bob.id, "type": "offer", "sdp": OFFER})
        d = await next_event(b, "VOICE_SIGNAL")
        assert d == {"guild_id": guild.id, "channel_id": voice.id, "from": alice.id,
                     "from_session": a.ready["session_id"], "session_id": b.ready["session_id"],
                     "type": "offer", "sdp": OFFER}
        candidate = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0",
                     "sdpMLineIndex": 0, "usernameFragment": "abcd"}
        await b.send(SIGNAL, {"to": alice.id, "type": "candidate", "candidate": candidate})
        d = await next_event(a, "VOICE_SIGNAL")
        assert (d["from"], d["type"], d["candidate"]) == (bob.id, "candidate", candidate)
        # Fence: carol and the owner, who watch the room, see bob mute and nothing before it.
        await b.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id, "self_mute": True})
        for gw in (c, o, a):
            await state_update(gw, bob, self_mute=True)


@run_async
async def test_bob_in_another_tab_does_not_get_signals_for_his_call(guild, alice, bob, voice):
    async with gateway(alice) as a, gateway(bob) as call, gateway(bob) as other_tab:
        await join(a, voice)
        await join(call, voice)
        await state_update(other_tab, alice, channel_id=voice.id)
        await state_update(other_tab, bob, channel_id=voice.id)
        await a.send(SIGNAL, {"to": bob.id, "type": "offer", "sdp": OFFER})
        assert (await next_event(call, "VOICE_SIGNAL", skip=NOISE | {"VOICE_STATE_UPDATE"}))["sdp"] == OFFER
        await a.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id, "self_deaf": True})
        await state_update(other_tab, alice, self_deaf=True)  # fence: no VOICE_SIGNAL before it


@run_async
async def test_bad_signals_get_error_frames_and_nothing_is_forwarded(guild, owner, alice, bob, voice):
    async with gateway(alice) as a, gateway(bob) as b:
        await join(a, voice)
        await state_update(a, alice, channel_id=voice.id)
        await state_update(b, alice, channel_id=voice.id)
        # bob is not in the room (yet): nothing to send to, and he cannot send either.
        await a.send(SIGNAL, {"to": bob.id, "type": "offer", "sdp": OFFER})
        assert (await error(a))["code"] == "not_in_voice"
        await b.send(SIGNAL, {"to": alice.id, "type": "offer", "sdp": OFFER})
        assert (await error(b))["code"] == "not_in_voice"
        await join(b, voice)
        await state_update(a, bob, channel_id=voice.id)
        await state_update(b, bob, channel_id=voice.id)

        too_big = OFFER + "a=x-padding:" + "x" * django_settings.RTC_MAX_SDP_BYTES + "\r\n"
        await a.send(SIGNAL, {"to": bob.id, "type": "offer", "sdp": too_big})
        err = await error(a)
        assert err["code"] == "payload_too_large" and err["fields"] == {"sdp": ["too_large"]}
        for bad, field in (({"to": bob.id, "type": "candidate", "candidate": {"candidate": ["not", "a string"]}},
                            "candidate"),
                           ({"to": bob.id, "type": "candidate", "candidate": {"candidate": "c", "evil": "x"}},
                            "candidate"),
                           ({"to": bob.id, "type": "renegotiate", "sdp": OFFER}, "type"),
                           ({"to": bob.id, "type": "answer"}, "sdp")):
            await a.send(SIGNAL, bad)
            err = await error(a)
            assert err["code"] == "invalid_signal" and field in err["fields"], err
        await a.send(SIGNAL, {"to": "bob", "type": "offer", "sdp": OFFER})
        assert (await error(a))["code"] == "invalid_payload"
        await a.still_open()

        # bob received none of it: his next frame is alice's next change.
        await a.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id, "self_video": True})
        await state_update(b, alice, self_video=True)


@run_async
async def test_a_member_who_loses_connect_cannot_signal_and_is_taken_out_of_the_room(guild, owner, alice, bob,
                                                                                     carol, voice):
    async with gateway(bob) as b, gateway(carol) as c:
        await join(b, voice)
        await join(c, voice)
        # alice's participant, as her connection would hold it (its socket is elsewhere, say).
        await db(rtc.join_voice)(user=alice, session_id="alice-tab", channel_id=voice.id)
        for user in (bob, carol, alice):
            await state_update(b, user, channel_id=voice.id)

        await db(guilds.set_overwrite)(actor=owner, channel=voice, allow=0, deny=int(P.CONNECT),
                                       member=await db(member)(guild, alice))
        with pytest.raises(MissingPermission):
            await db(rtc.relay_signal)(user=alice, session_id="alice-tab", guild_id=guild.id, to=bob.id,
                                       kind="offer", sdp=OFFER)

        # carol loses CONNECT while her socket is in the room: she is taken out at once, and bob,
        # who got no signal from alice, sees that next.
        await db(guilds.set_overwrite)(actor=owner, channel=voice, allow=0, deny=int(P.CONNECT),
                                       member=await db(member)(guild, carol))
        await state_update(b, carol, channel_id=None)
        await state_update(c, carol, channel_id=voice.id)  # her own join, then her leave
        await state_update(c, alice, channel_id=voice.id)
        await state_update(c, carol, channel_id=None)


@run_async
async def test_joining_a_room_in_another_guild_leaves_the_first(guild, owner, alice, voice):
    other = await db(make_guild)(name="Elsewhere")
    await db(add_member)(other, user=alice)
    there = await db(Channel.objects.get)(guild=other, type="voice")
    async with gateway(owner) as o, gateway(alice) as a:
        await join(a, voice)
        await state_update(o, alice, channel_id=voice.id)
        answer = await join(a, there)
        assert answer["guild_id"] == other.id
        await state_update(o, alice, channel_id=None)  # one voice session across the platform
        await o.send(REQUEST_STATES, {"guild_id": guild.id})
        assert (await next_event(o, "VOICE_STATES"))["voice_states"] == []


@run_async
async def test_a_refused_join_elsewhere_leaves_the_member_where_they_were(guild, owner, alice, voice):
    other = await db(make_guild)(name="Elsewhere")
    await db(add_member)(other, user=alice)
    full = await db(Channel.objects.get)(guild=other, type="voice")
    await db(guilds.update_channel)(actor=other.owner, channel=full, user_limit=1)
    await db(rtc.join_voice)(user=other.owner, session_id="owner-tab", channel_id=full.id)
    async with gateway(alice) as a:
        await join(a, voice)
        await a.send(JOIN, {"guild_id": other.id, "channel_id": full.id})
        assert (await error(a, skip=NOISE | {"VOICE_STATE_UPDATE"}))["code"] == "voice_channel_full"
        await a.send(REQUEST_STATES, {"guild_id": guild.id})
        d = await next_event(a, "VOICE_STATES", skip=NOISE | {"VOICE_STATE_UPDATE"})
        assert [(s["user_id"], s["channel_id"]) for s in d["voice_states"]] == [(alice.id, voice.id)]


# --- moderation --------------------------------------------------------------------------------------

@run_async
async def test_server_mute_by_a_moderator_reaches_everyone(guild, owner, alice, bob, voice):
    mod = (await db(add_member_with)(guild, P.MUTE_MEMBERS, user=await db(UserFactory)(username="mod"))).user
    async with gateway(owner) as o, gateway(alice) as a, gateway(bob) as b:
        await join(a, voice)
        await join(b, voice)
        for gw, who in ((o, (alice, bob)), (a, (alice, bob)), (b, (bob,))):
            for user in who:
                await state_update(gw, user, channel_id=voice.id)

        status, body = await db(patch_voice)(bob, guild, alice, {"mute": True})
        assert status == 403 and body["error"]["code"] == "missing_permission"
        assert body["error"]["permission"] == "MUTE_MEMBERS"

        status, body = await db(patch_voice)(mod, guild, alice, {"mute": True})
        assert status == 200 and body["mute"] is True and body["user_id"] == alice.id
        for gw in (o, a, b):  # immediately, and bob's refused attempt before it changed nothing
            await state_update(gw, alice, mute=True, self_mute=False, channel_id=voice.id)

        status, body = await db(patch_voice)(mod, guild, alice, {"deaf": True})
        assert status == 403 and body["error"]["permission"] == "DEAFEN_MEMBERS"


@run_async
async def test_a_moderator_moves_and_disconnects_a_participant(guild, owner, alice, bob, voice):
    lounge = await db(guilds.create_channel)(actor=owner, guild=guild, name="Lounge", type="voice")
    async with gateway(alice) as a, gateway(bob) as b:
        await join(a, voice)
        for gw in (a, b):
            await state_update(gw, alice, channel_id=voice.id)
        status, body = await db(patch_voice)(owner, guild, alice, {"channel_id": lounge.id})
        assert status == 200 and body["channel_id"] == lounge.id
        for gw in (a, b):  # her own browser follows her to the other room
            await state_update(gw, alice, channel_id=lounge.id)
        status, _ = await db(patch_voice)(owner, guild, alice, {"channel_id": None})
        assert status == 204
        for gw in (a, b):  # and leaves the call
            await state_update(gw, alice, channel_id=None)
        status, body = await db(patch_voice)(owner, guild, alice, {"mute": True})
        assert status == 409 and body["error"]["code"] == "not_in_voice"


# --- pages and REST ----------------------------------------------------------------------------------

def test_a_voice_channel_opens_the_voice_room_page(guild, alice, voice, owner):
    page = api_client(alice).get(f"/guilds/{guild.id}/channels/{voice.id}")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="voice"' in html and 'data-can-connect="true"' in html and "Join voice" in html
    assert 'data-can-mute-members="false"' in html
    assert 'data-can-mute-members="true"' in api_client(owner).get(f"/guilds/{guild.id}/channels/{voice.id}") \
        .content.decode()


def ice_servers(user) -> tuple[int, dict]:
    r = api_client(user).get("/api/rtc/ice-servers")
    return r.status_code, r.json()


@run_async
async def test_turn_credentials_go_only_to_participants_of_a_call_while_it_lasts(guild, owner, alice, bob, voice,
                                                                                 settings):
    settings.TURN_URLS = ["turn:turn.example.org:3478"]
    settings.TURN_SECRET = "secret"
    settings.TURN_TTL = 120
    assert Client().get("/api/rtc/ice-servers").status_code == 401
    # Signed in is not enough: a member in no call gets no relay.
    status, body = await db(ice_servers)(alice)
    assert status == 409 and body["error"]["code"] == "not_in_voice" and "ice_servers" not in body
    async with gateway(alice) as a:
        answer = await join(a, voice)
        assert answer["ice_ttl"] == 120
        relay = answer["ice_servers"][-1]
        expiry, user_id = relay["username"].split(":")
        assert user_id == str(alice.id) and int(expiry) <= int(time.time()) + 120
        # In the call, the browser renews them.
        status, body = await db(ice_servers)(alice)
        assert status == 200 and body["ttl"] == 120
        (relay,) = body["ice_servers"]
        assert relay["urls"] == ["turn:turn.example.org:3478"] and relay["username"].endswith(f":{alice.id}")
        # Timed out (or banned, kicked): no more, whether or not the room let them go yet.
        await db(sanctions.timeout_member)(actor=owner, member=await db(member)(guild, alice),
                                           duration=timedelta(minutes=5))
        status, body = await db(ice_servers)(alice)
        assert status in (403, 409) and "ice_servers" not in body
    async with gateway(bob) as b:
        await join(b, voice)
        await db(sanctions.ban_member)(actor=owner, guild=guild, user=bob)
        status, body = await db(ice_servers)(bob)
        assert status in (404, 409) and "ice_servers" not in body
    # The call over, nothing either.
    status, body = await db(ice_servers)(alice)
    assert status == 409
