"""Presence over the gateway: who is online, idle or on do-not-disturb, aggregated over each user's
tabs and devices, kept in Redis, and sent in batches to members who follow a guild's member list."""
from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from apps.realtime import presence
from tests.factories import UserFactory, add_member
from tests.integration.test_gateway import db, gateway, run_async

pytestmark = pytest.mark.django_db(transaction=True)


async def member_list(gw, guild) -> dict:
    await gw.send(8, {"guild_id": guild.id})
    chunk = await gw.event("GUILD_MEMBERS_CHUNK")
    assert chunk["guild_id"] == guild.id
    return chunk


async def presences(gw) -> dict[int, str]:
    d = await gw.event("PRESENCE_UPDATE", timeout=10)  # batches are a second apart; a loaded box is slower
    return {p["user_id"]: p["status"] for p in d["presences"]}


async def status_of(gw, user, known: str | None = None) -> str:
    """The status of `user` in the next PRESENCE_UPDATE that names them (others may come first:
    a client also hears of its own user coming online). `known`: the status the client already
    has for them, from the member list; its batch may still be on its way, and repeats nothing."""
    while True:
        changes = await presences(gw)
        if user.id in changes and changes[user.id] != known:
            return changes[user.id]


async def online(*users) -> None:
    """Until the users' connections' presence writes have landed (one batch window)."""
    for _ in range(50):
        if set((await presence.statuses([u.id for u in users])).values()) == {"online"}:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not online")


@run_async
async def test_member_list_shows_who_is_online(guild, owner, alice, bob):
    async with gateway(alice), gateway(bob) as b:
        await online(alice, bob)
        chunk = await member_list(b, guild)
        status = {m["user_id"]: m["status"] for m in chunk["members"]}
        assert status == {owner.id: "offline", alice.id: "online", bob.id: "online"}
        assert chunk["total"] == 3
        names = {m["user_id"]: m["display_name"] for m in chunk["members"]}
        assert names[alice.id] == alice.shown_name


@run_async
async def test_a_user_goes_offline_only_when_their_last_tab_closes(guild, alice, bob):
    async with gateway(bob) as b:
        await member_list(b, guild)
        tab1 = gateway(alice)
        await tab1.__aenter__()
        assert await status_of(b, alice) == "online"
        async with gateway(alice):
            await tab1.__aexit__(None, None, None)  # one of two tabs closes: alice is still online
        # The second close does change it, and that is the next thing bob hears of alice.
        assert await status_of(b, alice) == "offline"


@run_async
async def test_status_is_the_strongest_of_the_users_tabs(guild, alice, bob):
    async with gateway(bob) as b, gateway(alice) as tab1:
        await online(alice)
        chunk = await member_list(b, guild)
        assert {m["user_id"]: m["status"] for m in chunk["members"]}[alice.id] == "online"
        await tab1.send(3, {"status": "idle"})
        assert await status_of(b, alice, known="online") == "idle"
        async with gateway(alice) as tab2:  # an active tab beats an idle one
            assert await status_of(b, alice) == "online"
            await tab2.send(3, {"status": "dnd"})
            assert await status_of(b, alice) == "dnd"
        assert await status_of(b, alice) == "idle"


@run_async
async def test_presence_reaches_only_clients_that_follow_the_member_list(guild, owner, alice, bob):
    async with gateway(bob) as b:
        async with gateway(alice):
            pass
        # bob never asked for the member list: the fence (his own heartbeat answer) comes first.
        await asyncio.sleep(0.3)
        await b.still_open()
        async with gateway(owner) as o:
            await member_list(o, guild)
            await b.send(3, {"status": "dnd"})
            assert await status_of(o, bob) == "dnd"


@run_async
async def test_a_reconnect_storm_arrives_in_a_few_batched_events(guild, bob, settings):
    settings.PRESENCE_BATCH_SECONDS = 1.0
    users = await db(lambda: [add_member(guild, user=UserFactory()).user for _ in range(20)])()
    async with gateway(bob) as b, AsyncExitStack() as stack:
        await member_list(b, guild)
        await asyncio.gather(*(stack.enter_async_context(gateway(u)) for u in users))
        seen, events = {}, 0
        while not all(u.id in seen for u in users):
            seen.update(await presences(b))
            events += 1
        assert {u.id: seen[u.id] for u in users} == {u.id: "online" for u in users}
        assert events <= 4, f"{len(users)} members coming online took {events} events"


@run_async
async def test_bad_presence_requests_get_error_frames(guild, alice):
    other = await db(lambda: UserFactory())()
    from tests.factories import make_guild
    elsewhere = await db(make_guild)(other, name="Elsewhere")
    async with gateway(alice) as a:
        await a.send(3, {"status": "invisible-ish"})
        err = await a.error()
        assert (err["code"], err["field"]) == ("invalid_payload", "status")
        await a.send(8, {"guild_id": elsewhere.id})
        err = await a.error()
        assert err["code"] == "unknown_guild"
        await a.send(8, {"guild_id": "1"})
        assert (await a.error())["code"] == "invalid_payload"
        await a.still_open()


@run_async
async def test_a_connection_lost_with_its_node_expires(alice):
    """A node that dies never says goodbye: its connections' entries simply run out."""
    await presence.store().update(alice.id, "lost-node-connection", "online", ttl=0.5)
    assert (await presence.statuses([alice.id]))[alice.id] == "online"
    await asyncio.sleep(0.7)
    assert (await presence.statuses([alice.id]))[alice.id] == "offline"


@run_async
async def test_heartbeats_keep_an_entry_alive_without_waiting_for_redis(alice):
    """A heartbeat queues its write; the batch lands within the window and pushes the expiry on."""
    presence.set_status(alice.id, "tab", "online", [], ttl=0.5)
    for _ in range(6):  # 1.2 s of heartbeats, more than twice the entry's lifetime
        presence.set_status(alice.id, "tab", "online", [], ttl=0.5)
        await asyncio.sleep(0.2)
    assert (await presence.statuses([alice.id]))[alice.id] == "online"
    await asyncio.sleep(0.7)  # the heartbeats stopped
    assert (await presence.statuses([alice.id]))[alice.id] == "offline"


@run_async
async def test_the_last_write_of_a_connection_wins(alice):
    presence.set_status(alice.id, "tab", "online", [], ttl=5)
    await asyncio.sleep(0.3)
    assert (await presence.statuses([alice.id]))[alice.id] == "online"
    presence.set_status(alice.id, "tab", "dnd", [], ttl=5)  # a heartbeat, then the tab closes
    presence.set_status(alice.id, "tab", None, [], ttl=5)
    await asyncio.sleep(0.3)  # past the window
    assert (await presence.statuses([alice.id]))[alice.id] == "offline"


@run_async
async def test_presence_writes_and_reads_survive_redis_forgetting_its_scripts(alice, bob):
    """The scripts go by digest (EVALSHA): a Redis that restarted, or flushed its scripts, is sent
    them again, and no write of the batch is lost."""
    store = presence.store()
    assert isinstance(store, presence.RedisStore), "the suite runs on a real Redis (tests/plugins/services.py)"
    await store._client().script_flush()
    assert await store.update_many([(alice.id, "tab", "dnd", 5.0), (bob.id, "tab", "online", 5.0)]) == [
        ("offline", "dnd"), ("offline", "online")]
    await store._client().script_flush()
    assert await presence.statuses([alice.id, bob.id]) == {alice.id: "dnd", bob.id: "online"}
