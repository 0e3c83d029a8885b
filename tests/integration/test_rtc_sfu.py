"""Rooms past RTC_MESH_MAX through a real Janus (the Debian package, started by the test on loopback,
with token authentication as in docker/janus/): Django creates the channel's VideoRoom room, seats
each participant's publisher itself under their user id, hands their browser the session and a
token of their own, and throws them out of Janus when they leave."""
from __future__ import annotations

import json
import secrets
import urllib.request

import pytest

from apps.guilds import services as guilds
from apps.rtc import sfu
from apps.rtc.janus import Janus
from tests.integration.test_gateway import db, gateway, run_async

# The voice fixtures of the mesh tests (an autouse one among them), shared rather than copied.
from tests.integration.test_rtc import (  # noqa: F401
    JOIN,
    NOISE,
    _fresh_voice_state,
    error,
    join,
    next_event,
    patch_voice,
    voice,
)
from tests.servers import free_port, janus

pytestmark = pytest.mark.django_db(transaction=True)
UNAUTHORIZED = 403  # Janus core: no token, or one Django did not issue (or took back)
NOT_ALLOWED = 433  # the VideoRoom plugin: a publisher join without the room's join token


@pytest.fixture(scope="module")
def janus_server():
    with janus() as server:
        yield server


@pytest.fixture
def sfu_settings(settings, janus_server):
    settings.RTC_MESH_MAX = 2
    settings.JANUS_URL = janus_server.http_url
    settings.JANUS_ADMIN_URL = janus_server.admin_url
    settings.JANUS_PUBLIC_URL = janus_server.ws_url
    settings.JANUS_ADMIN_KEY = janus_server.admin_key
    return janus_server


class Browser:
    """Janus's HTTP API as a browser (or anyone who got hold of a token) would use it: every
    request carries `token`, if any."""

    def __init__(self, url: str, token: str | None = None):
        self.url, self.token = url, token

    def post(self, path: str, body: dict) -> dict:
        body = {**body, "transaction": secrets.token_hex(6), **({"token": self.token} if self.token else {})}
        req = urllib.request.Request(self.url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def session(self) -> int | dict:
        """A new session's id, or Janus's error."""
        answer = self.post("", {"janus": "create"})
        return answer["data"]["id"] if answer["janus"] == "success" else answer["error"]

    def message(self, session: int, handle: int, body: dict) -> dict:
        """The VideoRoom's answer to `body`: at once, or as an event on the session's long poll."""
        answer = self.post(f"/{session}/{handle}", {"janus": "message", "body": body})
        if answer["janus"] == "error":
            return answer["error"]
        if answer["janus"] == "success":
            return answer["plugindata"]["data"]
        query = f"maxev=1&token={self.token}" if self.token else "maxev=1"
        for _ in range(10):
            with urllib.request.urlopen(f"{self.url}/{session}?{query}", timeout=35) as r:
                event = json.loads(r.read())
            if event.get("janus") == "event" and event.get("transaction") == answer["transaction"]:
                return event["plugindata"]["data"]
        raise AssertionError("Janus did not answer")

    def publish_as(self, room: int, feed: int, join_token: str | None = None) -> dict:
        """Try to join `room` as publisher `feed` in a session of one's own."""
        session = self.session()
        handle = self.post(f"/{session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})["data"]["id"]
        body = {"request": "join", "ptype": "publisher", "room": room, "id": feed, "display": str(feed)}
        return self.message(session, handle, {**body, **({"token": join_token} if join_token else {})})

    def participants(self, room: int, seat: dict) -> dict:
        return self.message(seat["session"], seat["handle"], {"request": "listparticipants", "room": room})


@run_async
async def test_past_the_mesh_size_each_participant_gets_a_seat_only_they_can_use(
        guild, owner, alice, bob, voice, sfu_settings):  # noqa: F811 (shared fixtures)
    admin, url = Janus(), sfu_settings.http_url
    room = sfu.room_id(voice.id)
    assert room != voice.id and room < 2**53  # not the channel id: nobody guesses a hidden channel's room
    async with gateway(owner) as o, gateway(alice) as a:
        first = await join(o, voice)
        assert first["topology"] == "mesh" and first["sfu"] is None
        await join(a, voice)
        assert not await db(admin.exists)(room)  # a mesh room needs no Janus room
        async with gateway(bob) as b:
            answer = await join(b, voice)
            assert answer["topology"] == "sfu"
            seat = answer["sfu"]
            assert (seat["room"], seat["feed"], seat["url"]) == (room, bob.id, sfu_settings.ws_url)
            assert seat["token"] and seat["session"] and seat["handle"] and seat["private_id"]
            # The two already in the call are told to switch, each with a seat of their own; Bob's
            # join answer was his.
            seats = {bob.id: seat}
            for gw, user in ((o, owner), (a, alice)):
                d = await next_event(gw, "VOICE_TOPOLOGY_UPDATE", skip=NOISE | {"VOICE_STATE_UPDATE"})
                assert d["topology"] == "sfu" and d["channel_id"] == voice.id and d["sfu"]["feed"] == user.id
                seats[user.id] = d["sfu"]
            assert len({s["token"] for s in seats.values()}) == len({s["session"] for s in seats.values()}) == 3
            # Django seated every publisher, each under its own user id.
            assert sorted(p["id"] for p in await db(admin.participants)(room)) == sorted(seats)

            # Without a token Janus answers nothing, not even who is in the room.
            stranger = Browser(url)
            assert (await db(stranger.session)())["code"] == UNAUTHORIZED
            assert (await db(Browser(url, "a-token-django-never-issued").session)())["code"] == UNAUTHORIZED
            # Bob's token opens his own seat (the session Django joined for him) and lists his room...
            bobs = Browser(url, seat["token"])
            assert (await db(bobs.post)("", {"janus": "claim", "session_id": seat["session"]}))["janus"] == "success"
            listed = await db(bobs.participants)(room, seat)
            assert sorted(p["id"] for p in listed["participants"]) == sorted(seats)
            # ...but publishes under no other id, not even a second time under his own.
            for feed in (owner.id, bob.id + 1000, bob.id):
                refused = await db(bobs.publish_as)(room, feed, seat["token"])
                assert refused.get("error_code") == NOT_ALLOWED, refused
            assert sorted(p["id"] for p in await db(admin.participants)(room)) == sorted(seats)

            # Bob leaves: his feed is gone, and his token opens nothing any more.
            await b.send(JOIN, {"guild_id": guild.id, "channel_id": None})
            await next_event(o, "VOICE_STATE_UPDATE")
        assert (await db(bobs.session)())["code"] == UNAUTHORIZED
        keepalive = await db(bobs.post)(f"/{seat['session']}", {"janus": "keepalive"})
        assert keepalive["error"]["code"] == UNAUTHORIZED
        # Back at the mesh size, the others are told to go back to a mesh, and leave Janus.
        for gw in (o, a):
            d = await next_event(gw, "VOICE_TOPOLOGY_UPDATE", skip=NOISE | {"VOICE_STATE_UPDATE"})
            assert d["topology"] == "mesh" and d["sfu"] is None
        assert not await db(admin.exists)(room)
        for user in (owner, alice):
            assert (await db(Browser(url, seats[user.id]["token"]).session)())["code"] == UNAUTHORIZED


@run_async
async def test_a_disconnected_participant_leaves_janus_at_once(guild, owner, alice, bob, carol, voice,  # noqa: F811
                                                               sfu_settings):
    admin, url, room = Janus(), sfu_settings.http_url, sfu.room_id(voice.id)
    async with gateway(owner) as o, gateway(alice) as a, gateway(bob) as b, gateway(carol) as c:
        for gw in (o, a, b):
            await join(gw, voice)
        seat = (await join(c, voice))["sfu"]
        assert sorted(p["id"] for p in await db(admin.participants)(room)) == sorted(
            u.id for u in (owner, alice, bob, carol))
        status, _ = await db(patch_voice)(owner, guild, carol, {"channel_id": None})
        assert status == 204
        assert sorted(p["id"] for p in await db(admin.participants)(room)) == sorted(u.id for u in (owner, alice, bob))
        assert (await db(Browser(url, seat["token"]).session)())["code"] == UNAUTHORIZED


@run_async
async def test_a_second_tab_taking_over_the_call_replaces_its_seat(guild, owner, alice, bob, voice,  # noqa: F811
                                                                     sfu_settings):
    admin, url, room = Janus(), sfu_settings.http_url, sfu.room_id(voice.id)
    async with gateway(owner) as o, gateway(alice) as a, gateway(bob) as first_tab:
        await join(o, voice)
        await join(a, voice)
        old = (await join(first_tab, voice))["sfu"]
        async with gateway(bob) as second_tab:
            new = (await join(second_tab, voice))["sfu"]
            assert new["token"] != old["token"] and new["session"] != old["session"]
            assert [p["id"] for p in await db(admin.participants)(room)].count(bob.id) == 1
            assert (await db(Browser(url, old["token"]).session)())["code"] == UNAUTHORIZED
            assert isinstance(await db(Browser(url, new["token"]).session)(), int)


@run_async
async def test_a_moderator_moving_a_member_in_takes_the_room_to_janus(guild, owner, alice, bob, voice,  # noqa: F811
                                                                     sfu_settings):
    lounge = await db(guilds.create_channel)(actor=owner, guild=guild, name="Lounge", type="voice")
    async with gateway(owner) as o, gateway(alice) as a, gateway(bob) as b:
        await join(o, voice)
        await join(a, voice)
        await join(b, lounge)
        status, _ = await db(patch_voice)(owner, guild, bob, {"channel_id": voice.id})
        assert status == 200
        for gw, user in ((o, owner), (a, alice)):
            d = await next_event(gw, "VOICE_TOPOLOGY_UPDATE", skip=NOISE | {"VOICE_STATE_UPDATE"})
            assert d["topology"] == "sfu" and d["sfu"]["feed"] == user.id and d["sfu"]["session"]
        ids = [p["id"] for p in await db(Janus().participants)(sfu.room_id(voice.id))]
        assert owner.id in ids and alice.id in ids


@run_async
async def test_a_join_past_the_mesh_is_refused_when_janus_does_not_answer(guild, owner, alice, bob, voice,  # noqa: F811
                                                                          settings):
    settings.RTC_MESH_MAX = 2
    settings.JANUS_URL = f"http://127.0.0.1:{free_port()}/janus"  # nothing listens there
    settings.JANUS_ADMIN_URL = f"http://127.0.0.1:{free_port()}/admin"
    settings.JANUS_TIMEOUT = 2
    async with gateway(owner) as o, gateway(alice) as a, gateway(bob) as b:
        await join(o, voice)
        await join(a, voice)
        await b.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id})
        err = await error(b, skip=NOISE | {"VOICE_STATE_UPDATE"})
        assert err["code"] == "sfu_unavailable"
        assert err["message"] == "The media server does not answer."


def test_tokens_are_per_participant_and_join_and_rooms_are_not_the_channels_ids(settings):
    a = {"channel_id": 1, "user_id": 2, "session_id": "s1", "joined_at": 10}
    assert sfu.token_for(a) != sfu.token_for({**a, "session_id": "s2"})
    assert sfu.token_for(a) != sfu.token_for({**a, "user_id": 3})
    assert sfu.token_for(a) != sfu.token_for({**a, "joined_at": 11})
    assert sfu.room_secret(1) != sfu.room_secret(2) and sfu.room_token(1) != sfu.room_token(2)
    assert len({sfu.room_id(c) for c in range(1, 1000)}) == 999
    assert all(0 < sfu.room_id(c) < 2**53 and sfu.room_id(c) != c for c in range(1, 1000))
