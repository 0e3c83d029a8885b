"""Threads on the gateway: a thread's events reach exactly the sockets that can view its parent.
Same harness as test_gateway (real Redis hub and PostgreSQL, fences for "receives nothing")."""
from __future__ import annotations

import pytest

from apps.chat import thread_services as threads
from apps.guilds import services as guilds
from apps.guilds.models import Channel
from tests.integration.test_gateway import P, db, everyone, gateway, member, run_async, send, text_channel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def secret(guild, owner, alice) -> Channel:
    """A channel @everyone cannot view, but alice can."""
    ch = guilds.create_channel(actor=owner, guild=guild, name="secret")
    guilds.set_overwrite(actor=owner, channel=ch, allow=0, deny=int(P.VIEW_CHANNEL), role=everyone(guild))
    guilds.set_overwrite(actor=owner, channel=ch, allow=int(P.VIEW_CHANNEL), deny=0, member=member(guild, alice))
    return ch


def start(user, message, name="Plans"):
    """The new thread's channel (what the chat helpers take)."""
    return threads.create_thread(actor=user, channel_id=message.channel_id, message_id=message.id,
                                 name=name).channel


@run_async
async def test_thread_events_reach_only_those_who_see_the_parent(guild, owner, alice, bob, secret):
    general = await db(text_channel)(guild)
    starter = await db(send)(owner, secret, "shall we?")
    async with gateway(alice) as a, gateway(bob) as b:
        thread = await db(start)(owner, starter)
        d = await a.event("THREAD_CREATE")
        assert (d["id"], d["parent_id"], d["channel_id"], d["guild_id"], d["name"], d["message_count"],
                d["member_count"], d["archived"]) == (thread.pk, secret.id, secret.id, guild.id, "Plans", 0, 1, False)
        d = await a.event("MESSAGE_UPDATE")
        assert (d["id"], d["channel_id"], d["thread"]["id"], d["thread"]["message_count"]) == (
            starter.id, secret.id, thread.pk, 0)

        msg = await db(send)(alice, thread, "count me in")
        d = await a.event("THREAD_MEMBERS_UPDATE")
        assert (d["id"], d["channel_id"], d["added_user_ids"], d["member_count"]) == (thread.pk, secret.id,
                                                                                     [alice.id], 2)
        d = await a.event("MESSAGE_UPDATE")
        assert (d["id"], d["thread"]["message_count"]) == (starter.id, 1)
        d = await a.event("MESSAGE_CREATE")
        assert (d["id"], d["channel_id"], d["content"]) == (msg.id, thread.pk, "count me in")

        await db(threads.update_thread)(actor=owner, thread_id=thread.pk, archived=True)
        d = await a.event("THREAD_UPDATE")
        assert (d["id"], d["channel_id"], d["archived"]) == (thread.pk, secret.id, True)
        assert (await a.event("MESSAGE_UPDATE"))["thread"]["archived"] is True
        await db(threads.delete_thread)(actor=owner, thread_id=thread.pk)
        assert await a.event("THREAD_DELETE") == {"id": thread.pk, "parent_id": secret.id, "type": "thread",
                                                  "channel_id": secret.id, "guild_id": guild.id}
        d = await a.event("MESSAGE_UPDATE")
        assert (d["id"], d["thread"]) == (starter.id, None)

        # Fence: bob's first event is of a channel he can view; none of the above reached him.
        fence = await db(send)(owner, general, "fence")
        assert (await b.event("MESSAGE_CREATE"))["id"] == fence.id
        assert (await a.event("MESSAGE_CREATE"))["id"] == fence.id


@run_async
async def test_ready_lists_active_threads_and_relays_threads_created_before_connecting(guild, owner, alice, bob,
                                                                                       secret):
    general = await db(text_channel)(guild)
    open_thread = await db(start)(owner, await db(send)(owner, general, "open"), "Open")
    closed = await db(start)(owner, await db(send)(owner, general, "closed"), "Closed")
    await db(threads.update_thread)(actor=owner, thread_id=closed.pk, archived=True)
    hidden = await db(start)(owner, await db(send)(owner, secret, "hidden"), "Hidden")
    async with gateway(alice) as a, gateway(bob) as b:
        assert sorted(t["name"] for t in a.ready["guilds"][0]["threads"]) == ["Hidden", "Open"]
        assert [t["name"] for t in b.ready["guilds"][0]["threads"]] == ["Open"]
        # Archived threads are not listed, but their events still reach those who see the parent.
        msg = await db(send)(owner, closed, "reopening")
        for gw in (a, b):
            d = await gw.event("THREAD_UPDATE")
            assert (d["id"], d["archived"]) == (closed.pk, False)
            assert (await gw.event("MESSAGE_UPDATE"))["thread"]["message_count"] == 1
            assert (await gw.event("MESSAGE_CREATE"))["id"] == msg.id
        secret_msg = await db(send)(owner, hidden, "only alice")
        await db(send)(owner, open_thread, "everyone")
        assert (await a.event("MESSAGE_UPDATE"))["channel_id"] == secret.id
        assert (await a.event("MESSAGE_CREATE"))["id"] == secret_msg.id
        for gw in (a, b):
            assert (await gw.event("MESSAGE_UPDATE"))["channel_id"] == general.id
            assert (await gw.event("MESSAGE_CREATE"))["content"] == "everyone"


@run_async
async def test_losing_view_on_the_parent_stops_thread_events_and_regaining_it_restores_them(guild, owner, alice):
    general = await db(text_channel)(guild)
    random = await db(guilds.create_channel)(actor=owner, guild=guild, name="random")
    thread = await db(start)(owner, await db(send)(owner, general, "topic"))
    async with gateway(alice) as a:
        ow = await db(guilds.set_overwrite)(actor=owner, channel=general, allow=0, deny=int(P.VIEW_CHANNEL),
                                            member=await db(member)(guild, alice))
        assert (await a.event("PERMISSIONS_CHANGED"))["channel_id"] == general.id
        await db(send)(owner, thread, "alice cannot see this")
        await db(threads.update_thread)(actor=owner, thread_id=thread.pk, name="Renamed")
        await a.send(6, {"channel_id": thread.pk, "content": "let me in", "nonce": "n"})
        assert await a.error() == {"code": "not_found", "message": "Unknown channel.", "ref": "n"}
        fence = await db(send)(owner, random, "fence")
        assert (await a.event("MESSAGE_CREATE"))["id"] == fence.id

        await db(guilds.delete_overwrite)(actor=owner, overwrite=ow)
        assert (await a.event("PERMISSIONS_CHANGED"))["channel_id"] == general.id
        back = await db(send)(owner, thread, "welcome back")
        assert (await a.event("MESSAGE_UPDATE"))["thread"]["message_count"] == 2
        assert (await a.event("MESSAGE_CREATE"))["id"] == back.id


@run_async
async def test_sending_in_a_thread_over_the_socket_needs_send_messages_in_threads(guild, owner, alice):
    general = await db(text_channel)(guild)
    thread = await db(start)(owner, await db(send)(owner, general, "topic"))
    async with gateway(alice) as a:
        await db(guilds.set_overwrite)(actor=owner, channel=general, allow=0, deny=int(P.SEND_MESSAGES_IN_THREADS),
                                       member=await db(member)(guild, alice))
        await a.event("PERMISSIONS_CHANGED")
        await a.send(6, {"channel_id": thread.pk, "content": "hello", "nonce": "x"})
        err = await a.error()
        assert (err["code"], err["permission"], err["ref"]) == ("missing_permission", "SEND_MESSAGES_IN_THREADS", "x")
        await a.send(6, {"channel_id": general.id, "content": "but here I can", "nonce": "y"})
        d = await a.event("MESSAGE_CREATE")
        assert (d["channel_id"], d["nonce"]) == (general.id, "y")
