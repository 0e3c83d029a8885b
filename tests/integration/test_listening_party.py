"""Listening parties in voice rooms through real gateway sockets (the whole ASGI stack, Redis,
PostgreSQL): who may start one and on what, everyone in the room hearing each change, who may
control it, a late joiner landing where playback is now, and the host leaving."""
from __future__ import annotations

import asyncio

import pytest

from apps.guilds import services as guilds
from apps.guilds.permissions import Permission
from tests.factories import UserFactory, add_member, add_member_with, make_guild, make_track
from tests.integration.test_gateway import db, everyone, gateway, run_async
from tests.integration.test_rtc import (  # noqa: F401 (fixtures)
    _fresh_voice_state,
    error,
    join,
    next_event,
    voice,
)

pytestmark = pytest.mark.django_db(transaction=True)
PARTY = 15
UPDATE = "LISTENING_PARTY_UPDATE"
# What else reaches a participant while a room fills and empties.
ROOM = {"VOICE_QUALITY_UPDATE", "PRESENCE_UPDATE", "PERMISSIONS_CHANGED", "VOICE_STATE_UPDATE"}


@pytest.fixture
def song(guild, owner):
    return make_track(guild, owner, title="Night Drive", duration_ms=20_000)


async def update(gw) -> dict:
    return await next_event(gw, UPDATE, skip=ROOM)


async def refused(gw) -> dict:
    return await error(gw, skip=ROOM)


async def sync(gw) -> dict:
    await gw.send(PARTY, {"action": "sync"})
    return await update(gw)


@run_async
async def test_starting_needs_the_permission_and_a_track_of_the_guild(guild, owner, alice, voice, song):  # noqa: F811
    other = await db(make_guild)(await db(UserFactory)(username="dana"), name="Elsewhere")
    foreign = await db(make_track)(other, other.owner, title="Not here")
    await db(add_member)(other, alice)  # alice can read it, but the others in her room could not
    processing = await db(make_track)(guild, owner, title="Still processing", state="processing")
    async with gateway(owner) as o, gateway(alice) as a:
        await join(o, voice)
        await join(a, voice)
        await a.send(PARTY, {"action": "start", "track_id": foreign.id})
        err = await refused(a)
        assert (err["code"], err["fields"]) == ("track_not_in_guild", {"track_id": ["not_in_guild"]})

        await db(guilds.set_overwrite)(actor=owner, channel=voice, allow=0,
                                       deny=int(Permission.START_LISTENING_PARTY), role=await db(everyone)(guild))
        await a.send(PARTY, {"action": "start", "track_id": song.id})
        err = await refused(a)
        assert (err["code"], err["permission"], err["ref"]) == ("missing_permission", "START_LISTENING_PARTY", PARTY)

        for track_id, code in ((foreign.id, "not_found"), (processing.id, "not_found"), (999_999, "not_found")):
            await o.send(PARTY, {"action": "start", "track_id": track_id})
            assert (await refused(o))["code"] == code
        await o.send(PARTY, {"action": "start"})
        assert (await refused(o))["fields"] == {"track_id": ["required"]}
        await o.send(PARTY, {"action": "dance"})
        assert (await refused(o))["code"] == "invalid_party_request"
        await o.send(PARTY, {"action": "start", "track_id": "one"})
        assert (await refused(o))["code"] == "invalid_payload"
        assert (await sync(a))["party"] is None  # nothing started

        # The owner may (every permission): everyone in the room hears it, the host included.
        await o.send(PARTY, {"action": "start", "track_id": song.id})
        for gw in (o, a):
            d = await update(gw)
            party = d["party"]
            assert (party["track_id"], party["host_id"], party["playing"], party["version"]) == (
                song.id, owner.id, True, 1)
            assert party["track"]["title"] == "Night Drive" and party["track"]["duration_ms"] == 20_000
            assert party["track"]["hls_url"] and party["position_ms"] == 0
            assert abs(d["server_time"] - party["updated_at"]) < 5

        await o.send(PARTY, {"action": "start", "track_id": song.id})
        assert (await refused(o))["code"] == "listening_party_active"


@run_async
async def test_only_the_host_or_a_room_moderator_controls_the_party(guild, owner, alice, bob, voice, song):  # noqa: F811
    mover = await db(add_member_with)(guild, Permission.MOVE_MEMBERS, user=await db(UserFactory)(username="mover"))
    async with gateway(alice) as a, gateway(bob) as b, gateway(mover.user) as m:
        for gw in (a, b, m):
            await join(gw, voice)
        await a.send(PARTY, {"action": "start", "track_id": song.id})
        started = (await update(b))["party"]
        await update(m)
        await update(a)

        # Bob is neither host nor moderator: refused, and the party is as it was.
        for action in ({"action": "seek", "position_ms": 5_000}, {"action": "pause"}, {"action": "stop"}):
            await b.send(PARTY, action)
            err = await refused(b)
            assert (err["code"], err["permission"]) == ("missing_permission", "MOVE_MEMBERS")
        now = (await sync(b))["party"]
        assert (now["version"], now["playing"], now["host_id"]) == (started["version"], True, alice.id)

        # Past the end, or before the start: refused, state unchanged.
        for position in (20_001, -1):
            await a.send(PARTY, {"action": "seek", "position_ms": position})
            err = await refused(a)
            assert (err["code"], err["fields"]) == ("invalid_party_request", {"position_ms": ["out_of_range"]})
        assert (await sync(a))["party"]["version"] == started["version"]

        # The host seeks and pauses; the moderator resumes; everyone follows each change.
        await a.send(PARTY, {"action": "seek", "position_ms": 10_000})
        for gw in (a, b, m):
            party = (await update(gw))["party"]
            assert (party["position_ms"], party["playing"], party["version"]) == (10_000, True, 2)
        await a.send(PARTY, {"action": "pause"})
        for gw in (a, b, m):
            party = (await update(gw))["party"]
            assert party["playing"] is False and 10_000 <= party["position_ms"] < 11_000
        paused_at = party["position_ms"]
        await asyncio.sleep(0.3)
        assert (await sync(b))["party"]["position_ms"] == paused_at  # paused: time does not move it
        await m.send(PARTY, {"action": "play"})
        for gw in (a, b, m):
            assert (await update(gw))["party"]["playing"] is True
        await m.send(PARTY, {"action": "stop"})
        for gw in (a, b, m):
            assert (await update(gw))["party"] is None


@run_async
async def test_a_late_joiner_starts_where_playback_is_now(guild, owner, alice, bob, voice, song):  # noqa: F811
    async with gateway(alice) as a:
        await join(a, voice)
        await a.send(PARTY, {"action": "start", "track_id": song.id})
        await update(a)
        await a.send(PARTY, {"action": "seek", "position_ms": 3_000})
        seeked = (await update(a))["party"]
        await asyncio.sleep(0.6)
        async with gateway(bob) as b:  # opens the page later: the join answer carries the party
            answer = await join(b, voice)
            party = answer["listening_party"]
            assert party["track_id"] == song.id and party["playing"] is True
            elapsed = answer["server_time"] - seeked["updated_at"]
            assert elapsed >= 600
            # Where it plays now: the seek, plus the time since (as the server counts it at the join).
            assert abs(party["position_ms"] + (answer["server_time"] - party["updated_at"]) - (3_000 + elapsed)) < 5
            assert party["position_ms"] >= 3_600


@run_async
async def test_the_host_leaving_hands_the_party_over_and_the_last_one_out_ends_it(  # noqa: F811
        guild, owner, alice, bob, carol, voice, song):  # noqa: F811
    async with gateway(carol) as watcher:  # can view the channel, not in the room: sees the updates too
        async with gateway(alice) as a, gateway(bob) as b:
            await join(a, voice)
            await join(b, voice)
            async with gateway(carol) as c:
                await join(c, voice)  # after bob: bob has been here longer
                await a.send(PARTY, {"action": "start", "track_id": song.id})
                for gw in (watcher, c):
                    assert (await update(gw))["party"]["host_id"] == alice.id
                await a.send(12, {"guild_id": guild.id, "channel_id": None})
                d = await update(watcher)
                assert d["party"]["host_id"] == bob.id and d["party"]["playing"] is True
                assert (await update(c))["party"]["host_id"] == bob.id
                # Bob controls it now; alice, gone, cannot.
                await b.send(PARTY, {"action": "pause"})
                assert (await update(c))["party"]["playing"] is False
                assert (await update(watcher))["party"]["playing"] is False
                await a.send(PARTY, {"action": "play"})
                assert (await error(a, skip=ROOM | {UPDATE}))["code"] == "not_in_voice"  # she still sees it
            # carol's tab closed; bob is alone and still hosting.
            await b.send(12, {"guild_id": guild.id, "channel_id": None})
            assert (await update(watcher))["party"] is None  # the room emptied: the party ended
        async with gateway(alice) as a:
            answer = await join(a, voice)
            assert answer["listening_party"] is None


@run_async
async def test_a_track_that_ended_moves_the_party_on_once_whoever_reports_it(guild, owner, alice, voice, song):  # noqa: F811
    second = await db(make_track)(guild, owner, title="Second", duration_ms=5_000)
    async with gateway(owner) as o, gateway(alice) as a:
        await join(o, voice)
        await join(a, voice)
        await o.send(PARTY, {"action": "start", "track_id": song.id, "queue": [second.id]})
        await update(o)
        await update(a)
        # Alice is not the host. Too early a report changes nothing: her next update answers her sync.
        await a.send(PARTY, {"action": "ended", "track_id": song.id})
        party = (await sync(a))["party"]
        assert party["track_id"] == song.id and party["position_ms"] < 5_000
        await o.send(PARTY, {"action": "seek", "position_ms": 19_990})
        await update(o)
        await update(a)
        await asyncio.sleep(0.05)
        # Both pages saw the end; the party moves on once, for both.
        await a.send(PARTY, {"action": "ended", "track_id": song.id})
        await o.send(PARTY, {"action": "ended", "track_id": song.id})
        for gw in (o, a):
            party = (await update(gw))["party"]
            assert (party["track_id"], party["queue"], party["position_ms"], party["playing"]) == (
                second.id, [], 0, True)
        await a.send(PARTY, {"action": "sync"})
        assert (await update(a))["party"]["track_id"] == second.id  # not a second update before it
        await a.send(PARTY, {"action": "ended"})
        assert (await refused(a))["fields"] == {"track_id": ["required"]}


@run_async
async def test_next_plays_the_queue_in_order_then_says_it_is_empty(guild, owner, alice, voice, song):  # noqa: F811
    second = await db(make_track)(guild, owner, title="Second", duration_ms=5_000)
    async with gateway(alice) as a:
        await join(a, voice)
        await a.send(PARTY, {"action": "start", "track_id": song.id, "queue": [second.id]})
        assert (await update(a))["party"]["queue"] == [second.id]
        await a.send(PARTY, {"action": "seek", "position_ms": 15_000})
        await update(a)
        await a.send(PARTY, {"action": "next"})
        party = (await update(a))["party"]
        assert (party["track_id"], party["track"]["title"], party["queue"]) == (second.id, "Second", [])
        assert party["position_ms"] == 0 and party["playing"] is True
        await a.send(PARTY, {"action": "seek", "position_ms": 6_000})  # past the end of this track
        assert (await refused(a))["fields"] == {"position_ms": ["out_of_range"]}
        await a.send(PARTY, {"action": "next"})
        err = await refused(a)
        assert (err["code"], err["fields"]) == ("invalid_party_request", {"queue": ["empty"]})
        await a.send(PARTY, {"action": "sync", "nonce": "s-1"})
        answer = await update(a)
        assert answer["party"]["track_id"] == second.id and answer["nonce"] == "s-1"  # the client times it


@run_async
async def test_a_public_track_of_another_guild_plays_in_a_party_and_a_guild_one_does_not(  # noqa: F811
        guild, owner, alice, voice):  # noqa: F811
    other = await db(make_guild)(await db(UserFactory)(username="dana"), name="Elsewhere")
    foreign = await db(make_track)(other, other.owner, title="Everyone's song", audience="public")
    private = await db(make_track)(other, other.owner, title="Members only")
    await db(add_member)(other, owner)  # the host hears both; the room hears only the public one
    async with gateway(owner) as o, gateway(alice) as a:
        await join(o, voice)
        await join(a, voice)
        await o.send(PARTY, {"action": "start", "track_id": private.id})
        assert (await refused(o))["code"] == "track_not_in_guild"
        await o.send(PARTY, {"action": "start", "track_id": foreign.id})
        for gw in (o, a):
            assert (await update(gw))["party"]["track"]["title"] == "Everyone's song"
