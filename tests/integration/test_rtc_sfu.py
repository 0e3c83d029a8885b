"""Rooms past RTC_MESH_MAX through a real Janus (the Debian package, started by the test on loopback):
Django creates the channel's VideoRoom room, admits participants with tokens Janus checks, and
throws them out of Janus when they leave."""
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
    alice,
    bob,
    error,
    join,
    next_event,
    patch_voice,
    voice,
)
from tests.servers import free_port, janus

pytestmark = pytest.mark.django_db(transaction=True)
UNAUTHORIZED = 433  # the VideoRoom plugin's "unauthorized" (a token not on the room's list)


@pytest.fixture(scope="module")
def janus_server():
    with janus() as server:
        yield server


@pytest.fixture
def sfu_settings(settings, janus_server):
    settings.RTC_MESH_MAX = 2
    settings.JANUS_URL = janus_server.http_url
    settings.JANUS_PUBLIC_URL = janus_server.ws_url
    settings.JANUS_ADMIN_KEY = janus_server.admin_key
    return janus_server


def janus_join(url: str, room: int, token: str, feed: int) -> dict:
    """Join a VideoRoom room as a publisher over Janus's HTTP API, as a browser would; returns the
    plugin's answer (`joined`, or an error with its code)."""
    def post(path, body):
        body = {**body, "transaction": secrets.token_hex(6)}
        req = urllib.request.Request(url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    session = post("", {"janus": "create"})["data"]["id"]
    handle = post(f"/{session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})["data"]["id"]
    ack = post(f"/{session}/{handle}", {"janus": "message", "body": {
        "request": "join", "ptype": "publisher", "room": room, "id": feed, "display": str(feed), "token": token}})
    assert ack["janus"] == "ack", ack
    for _ in range(10):  # the join's answer comes as an event on the session's long poll
        with urllib.request.urlopen(f"{url}/{session}?maxev=1", timeout=35) as r:
            event = json.loads(r.read())
        if event.get("janus") == "event" and event.get("sender") == handle:
            return event["plugindata"]["data"]
    raise AssertionError("Janus did not answer the join")


@run_async
async def test_past_the_mesh_size_the_room_goes_through_janus_which_admits_only_who_django_let_in(
        guild, owner, alice, bob, voice, sfu_settings):  # noqa: F811 (shared fixtures)
    client = Janus(sfu_settings.http_url)
    async with gateway(owner) as o, gateway(alice) as a:
        first = await join(o, voice)
        assert first["topology"] == "mesh" and first["sfu"] is None
        await join(a, voice)
        assert not client.exists(voice.id)  # a mesh room needs no Janus room
        async with gateway(bob) as b:
            answer = await join(b, voice)
            assert answer["topology"] == "sfu"
            creds = answer["sfu"]
            assert creds["room"] == voice.id and creds["feed"] == bob.id and creds["url"] == sfu_settings.ws_url
            assert creds["token"]
            assert client.exists(voice.id)
            # The two already in the call are told to switch, each with a token of their own.
            tokens = {}
            for gw, user in ((o, owner), (a, alice), (b, bob)):
                d = await next_event(gw, "VOICE_TOPOLOGY_UPDATE", skip=NOISE | {"VOICE_STATE_UPDATE"})
                assert d["topology"] == "sfu" and d["channel_id"] == voice.id and d["sfu"]["feed"] == user.id
                tokens[user.id] = d["sfu"]["token"]
            assert tokens[bob.id] == creds["token"] and len(set(tokens.values())) == 3

            # Janus refuses a token Django did not issue, and takes Bob's.
            refused = janus_join(sfu_settings.http_url, voice.id, "a-token-django-never-issued", bob.id)
            assert refused.get("error_code") == UNAUTHORIZED, refused
            joined = janus_join(sfu_settings.http_url, voice.id, creds["token"], bob.id)
            assert joined.get("videoroom") == "joined", joined
            assert [p["id"] for p in client.participants(voice.id)] == [bob.id]

            # Bob leaves: Janus drops him, and his token no longer opens the room.
            await b.send(JOIN, {"guild_id": guild.id, "channel_id": None})
            await next_event(o, "VOICE_STATE_UPDATE")
        assert client.participants(voice.id) == []
        again = janus_join(sfu_settings.http_url, voice.id, creds["token"], bob.id)
        assert again.get("error_code") == UNAUTHORIZED, again
        # Back at the mesh size, the others are told to go back to a mesh.
        for gw in (o, a):
            d = await next_event(gw, "VOICE_TOPOLOGY_UPDATE", skip=NOISE | {"VOICE_STATE_UPDATE"})
            assert d["topology"] == "mesh" and d["sfu"] is None
    # Everyone gone: the Janus room is destroyed.
    assert not client.exists(voice.id)


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
            assert d["topology"] == "sfu" and d["sfu"]["feed"] == user.id
            joined = await db(janus_join)(sfu_settings.http_url, voice.id, d["sfu"]["token"], user.id)
            assert joined.get("videoroom") == "joined", joined


@run_async
async def test_a_join_past_the_mesh_is_refused_when_janus_does_not_answer(guild, owner, alice, bob, voice,  # noqa: F811
                                                                          settings):
    settings.RTC_MESH_MAX = 2
    settings.JANUS_URL = f"http://127.0.0.1:{free_port()}/janus"  # nothing listens there
    settings.JANUS_TIMEOUT = 2
    async with gateway(owner) as o, gateway(alice) as a, gateway(bob) as b:
        await join(o, voice)
        await join(a, voice)
        await b.send(JOIN, {"guild_id": guild.id, "channel_id": voice.id})
        err = await error(b, skip=NOISE | {"VOICE_STATE_UPDATE"})
        assert err["code"] == "sfu_unavailable"
        assert err["message"] == "The media server does not answer."


def test_tokens_are_per_participant_and_secrets_per_room(settings):
    a = {"channel_id": 1, "user_id": 2, "session_id": "s1"}
    assert sfu.token_for(a) != sfu.token_for({**a, "session_id": "s2"})
    assert sfu.token_for(a) != sfu.token_for({**a, "user_id": 3})
    assert sfu.room_secret(1) != sfu.room_secret(2)
