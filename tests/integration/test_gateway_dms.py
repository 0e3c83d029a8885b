"""Direct messages on the gateway: a DM's events reach its recipients' sockets and nobody else's,
and the set of DMs a live socket relays follows recipients being added and removed.

"Receives nothing" is proven with a fence, as in test_gateway: after the events a socket must not
see, an event it must see is published, and the socket's next frame has to be that one."""
import pytest

from apps.chat import services as chat
from apps.dms import services as dms
from tests.factories import UserFactory, add_member
from tests.integration.test_gateway import db, gateway, run_async, send, text_channel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def trio(guild):
    return [add_member(guild, UserFactory(username=name)).user for name in ("ada", "bo", "cy")]


def recipients(d) -> set[str]:
    return {r["username"] for r in d["recipients"]}


@run_async
async def test_ready_lists_private_channels_with_unread_counts(guild, trio):
    ada, bo, cy = trio
    dm, _ = await db(dms.open_dm)(user=ada, recipient_id=bo.id)
    group = await db(dms.create_group_dm)(owner=bo, recipient_ids=[ada.id, cy.id], name="Band")
    await db(send)(bo, dm, "one")
    last = await db(send)(bo, dm, "two")
    async with gateway(ada) as a:
        entries = a.ready["private_channels"]
        assert [e["id"] for e in entries] == [dm.id, group.id]
        first = entries[0]
        assert (first["type"], first["guild_id"], first["name"], first["owner_id"]) == ("dm", None, "", None)
        assert recipients(first) == {"ada", "bo"}
        assert (first["last_message_id"], first["unread"], first["mentions"]) == (last.id, 2, 0)
        assert first["last_message"]["content"] == "two"
        assert (entries[1]["type"], entries[1]["name"], entries[1]["owner_id"]) == ("group_dm", "Band", bo.id)
        assert recipients(entries[1]) == {"ada", "bo", "cy"}
    async with gateway(cy) as c:
        assert [e["id"] for e in c.ready["private_channels"]] == [group.id]


@run_async
async def test_a_dm_message_reaches_both_recipients_and_nobody_else(guild, owner, trio):
    ada, bo, cy = trio
    general = await db(text_channel)(guild)
    async with gateway(ada) as a, gateway(bo) as b, gateway(cy) as c:
        dm, created = await db(dms.open_dm)(user=ada, recipient_id=bo.id)
        assert created
        for gw in (a, b):
            d = await gw.event("CHANNEL_CREATE")
            assert (d["id"], d["type"], d["guild_id"]) == (dm.id, "dm", None) and recipients(d) == {"ada", "bo"}

        msg = await db(send)(ada, dm, "just us", nonce="n-1")
        for gw in (a, b):
            d = await gw.event("MESSAGE_CREATE")
            assert (d["id"], d["channel_id"], d["guild_id"], d["content"]) == (msg.id, dm.id, None, "just us")
        await db(chat.add_reaction)(actor=bo, message=msg, emoji="🎉")
        for gw in (a, b):
            assert await gw.event("MESSAGE_REACTION_ADD") == {"channel_id": dm.id, "guild_id": None,
                                                              "message_id": msg.id, "user_id": bo.id, "emoji": "🎉"}
        await db(chat.start_typing)(user=bo, channel_id=dm.id)
        assert (await a.event("TYPING_START"))["display_name"] == "Bo"
        assert (await b.event("TYPING_START"))["user_id"] == bo.id
        await db(chat.ack_message)(user=bo, channel_id=dm.id, message_id=msg.id)
        assert await b.event("MESSAGE_ACK") == {"channel_id": dm.id, "message_id": msg.id}

        # cy (and the guild's owner, who shares the guild) heard none of it.
        fence = await db(send)(owner, general, "fence")
        for gw in (a, b, c):
            assert (await gw.event("MESSAGE_CREATE"))["id"] == fence.id
        assert c.seq == 2

        # Sending over the socket works in a DM too.
        await c.send(6, {"channel_id": dm.id, "content": "let me in", "nonce": "x"})
        assert (await c.error())["code"] == "not_found"
        await a.send(6, {"channel_id": dm.id, "content": "over the socket", "nonce": "s-1"})
        for gw in (a, b):
            assert (await gw.event("MESSAGE_CREATE"))["content"] == "over the socket"


@run_async
async def test_added_recipient_gets_the_channel_and_its_next_messages_removed_one_stops(guild, owner, trio):
    ada, bo, cy = trio
    general = await db(text_channel)(guild)
    group = await db(dms.create_group_dm)(owner=ada, recipient_ids=[bo.id], name="Plans")
    await db(send)(ada, group, "before cy")
    async with gateway(ada) as a, gateway(bo) as b, gateway(cy) as c:
        await db(dms.add_recipient)(actor=ada, channel_id=group.id, user_id=cy.id)
        d = await c.event("CHANNEL_CREATE")
        assert (d["id"], d["type"], d["name"]) == (group.id, "group_dm", "Plans")
        assert recipients(d) == {"ada", "bo", "cy"}
        for gw in (a, b):
            d = await gw.event("CHANNEL_RECIPIENT_ADD")
            assert (d["channel_id"], d["guild_id"], d["user"]["username"]) == (group.id, None, "cy")

        msg = await db(send)(bo, group, "welcome cy")
        for gw in (a, b, c):
            assert (await gw.event("MESSAGE_CREATE"))["id"] == msg.id

        await db(dms.rename_group_dm)(actor=cy, channel_id=group.id, name="Big plans")
        for gw in (a, b, c):
            assert (await gw.event("CHANNEL_UPDATE"))["name"] == "Big plans"

        # The owner removes cy: cy's socket gets CHANNEL_DELETE, then nothing more of the group.
        await db(dms.remove_recipient)(actor=ada, channel_id=group.id, user_id=cy.id)
        assert await c.event("CHANNEL_DELETE") == {"id": group.id, "guild_id": None, "type": "group_dm"}
        for gw in (a, b):
            d = await gw.event("CHANNEL_RECIPIENT_REMOVE")
            assert (d["channel_id"], d["user"]["username"]) == (group.id, "cy")
        await db(send)(ada, group, "cy is gone")
        await db(chat.start_typing)(user=bo, channel_id=group.id)
        fence = await db(send)(owner, general, "fence")
        assert (await c.event("MESSAGE_CREATE"))["id"] == fence.id
        assert (await a.event("MESSAGE_CREATE"))["content"] == "cy is gone"
        await c.send(6, {"channel_id": group.id, "content": "still here?", "nonce": "c-1"})
        assert (await c.error())["code"] == "not_found"

        # bo leaves; ada stays owner and hears of it.
        await db(dms.remove_recipient)(actor=bo, channel_id=group.id, user_id=bo.id)
        assert (await b.event("MESSAGE_CREATE"))["content"] == "cy is gone"
        assert (await b.event("TYPING_START"))["user_id"] == bo.id
        assert (await b.event("MESSAGE_CREATE"))["id"] == fence.id
        assert (await b.event("CHANNEL_DELETE"))["id"] == group.id
        assert (await a.event("TYPING_START"))["user_id"] == bo.id
        assert (await a.event("MESSAGE_CREATE"))["id"] == fence.id
        assert (await a.event("CHANNEL_RECIPIENT_REMOVE"))["user"]["username"] == "bo"
