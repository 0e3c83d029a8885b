"""Who hears of a message, through the real services and database: every notification rule
(levels, overrides, mutes and their end, @here for those online, suppressed @everyone, replies,
DMs, blocks, held messages, hidden channels), the settings API and its bad input, and the events
that tell a member's sockets."""
import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts import services as accounts
from apps.chat import services as chat
from apps.chat.models import Message
from apps.dms import services as dms
from apps.guilds import services as guild_services
from apps.guilds.models import Role
from apps.guilds.permissions import Permission as P
from apps.notifications import services
from apps.notifications.models import ChannelSettings, GuildSettings
from apps.realtime import presence
from tests.factories import UserFactory, make_role
from tests.integration.test_events import listen  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def general(guild):
    return guild.channels.get(name="general")


def send(user, channel, content="hello", **kw):
    return chat.send_message(author=user, channel_id=channel.id, content=content, **kw)


def heard(msg) -> dict:
    """{username: reason} of everyone who hears of `msg` (the task's decision, run here)."""
    from django.contrib.auth import get_user_model

    chosen = services.notify_message(msg.id)
    names = dict(get_user_model().objects.filter(pk__in=chosen).values_list("id", "username"))
    return {names[uid]: why for uid, why in chosen.items()}


@pytest.fixture
def online():
    """Mark users online as a gateway connection would (presence in the suite's Redis)."""
    written = []

    def mark(*users):
        async def write():
            for u in users:
                await presence.store().update(u.id, f"test-{u.id}", presence.ONLINE, 60)
                written.append(u.id)
            await presence.store().close()
        asyncio.run(write())

    yield mark

    async def clear():
        for uid in written:
            await presence.store().update(uid, f"test-{uid}", None, 60)
        await presence.store().close()
    asyncio.run(clear())


# --- defaults: only what pings you -----------------------------------------------------------------

def test_a_plain_message_notifies_nobody_by_default(owner, alice, bob, general):
    assert heard(send(alice, general, "just chatting")) == {}


def test_mentions_roles_and_replies_notify_the_people_they_ping(owner, alice, bob, carol, general):
    assert heard(send(alice, general, "@bob look")) == {"bob": "mention"}
    dj = make_role(owner.memberships.get().guild, name="DJ", mentionable=True)
    carol.memberships.get().roles.add(dj)
    assert heard(send(alice, general, f"<@&{dj.id}> spin something")) == {"carol": "role"}
    first = send(bob, general, "who is in?")
    assert heard(send(alice, general, "me!", reply_to_id=first.id)) == {"bob": "reply"}
    # Nobody hears of their own message, even naming themselves.
    assert heard(send(bob, general, "@bob note to self")) == {}


def test_everyone_pings_every_member_who_can_view_the_channel(guild, owner, alice, bob, carol, general):
    secret = guild_services.create_channel(actor=owner, guild=guild, name="staff")
    everyone = Role.objects.get(guild=guild, is_default=True)
    guild_services.set_overwrite(actor=owner, channel=secret, role=everyone, allow=0, deny=int(P.VIEW_CHANNEL))
    guild_services.set_overwrite(actor=owner, channel=secret, member=alice.memberships.get(), allow=int(P.VIEW_CHANNEL),
                                 deny=0)
    assert heard(send(owner, general, "@everyone standup")) == {"alice": "everyone", "bob": "everyone",
                                                                 "carol": "everyone"}
    assert heard(send(owner, secret, "@everyone staff only")) == {"alice": "everyone"}
    # A name in a channel its owner cannot view pings nobody.
    assert heard(send(owner, secret, "@bob psst")) == {}


def test_everyone_from_someone_not_allowed_pings_nobody(guild, owner, alice, bob, general):
    everyone = Role.objects.get(guild=guild, is_default=True)
    everyone.permissions = int(everyone.permissions) & ~int(P.MENTION_EVERYONE)
    everyone.save()
    assert heard(send(alice, general, "@everyone hello")) == {}


def test_here_pings_only_members_who_are_online(owner, alice, bob, carol, general, online):
    online(bob)
    assert heard(send(owner, general, "@here quick poll")) == {"bob": "here"}
    assert heard(send(owner, general, "@everyone and @here")) == {"alice": "everyone", "bob": "everyone",
                                                                   "carol": "everyone"}


def test_suppressed_everyone_and_here(guild, owner, alice, bob, general, online):
    online(alice, bob)
    services.update_guild_settings(user=alice, guild_id=guild.id, suppress_everyone=True)
    assert heard(send(owner, general, "@everyone hi")) == {"bob": "everyone"}
    assert heard(send(owner, general, "@here hi")) == {"bob": "here"}
    assert heard(send(owner, general, "@everyone @alice you too")) == {"alice": "mention", "bob": "everyone"}


# --- levels and overrides ---------------------------------------------------------------------------

def test_guild_level_and_channel_overrides(guild, owner, alice, bob, general):
    random = guild_services.create_channel(actor=owner, guild=guild, name="random")
    services.update_guild_settings(user=alice, guild_id=guild.id, level="all")
    services.update_channel_settings(user=alice, channel_id=random.id, level="mentions")
    services.update_channel_settings(user=bob, channel_id=random.id, level="all")
    assert heard(send(owner, general, "news")) == {"alice": "message"}
    assert heard(send(owner, random, "banter")) == {"bob": "message"}
    services.update_channel_settings(user=alice, channel_id=random.id, level="inherit")
    assert heard(send(owner, random, "more banter")) == {"alice": "message", "bob": "message"}
    services.update_guild_settings(user=alice, guild_id=guild.id, level="nothing")
    services.update_channel_settings(user=alice, channel_id=random.id, level="inherit")
    assert heard(send(owner, general, "@alice even you?")) == {}


def test_a_thread_follows_its_channel(guild, owner, alice, general):
    from apps.chat import thread_services

    starter = send(owner, general, "thread here")
    thread = thread_services.create_thread(actor=owner, channel_id=general.id, message_id=starter.id, name="Plans")
    services.update_channel_settings(user=alice, channel_id=general.id, level="all")
    assert heard(send(owner, thread.channel, "in the thread")) == {"alice": "message"}


# --- mutes ------------------------------------------------------------------------------------------

def test_a_muted_channel_hears_only_pings_until_the_mute_ends(guild, owner, alice, general):
    services.update_channel_settings(user=alice, channel_id=general.id, level="all", muted=True, mute_minutes=60)
    assert heard(send(owner, general, "noise")) == {}
    assert heard(send(owner, general, "@alice ping")) == {"alice": "mention"}
    ChannelSettings.objects.filter(user=alice).update(muted_until=timezone.now() - timedelta(seconds=1))
    assert heard(send(owner, general, "after the mute")) == {"alice": "message"}


def test_a_guild_muted_until_turned_back_on(guild, owner, alice, general):
    services.update_guild_settings(user=alice, guild_id=guild.id, level="all", muted=True)
    row = GuildSettings.objects.get(user=alice)
    assert row.muted and row.muted_until is None
    assert heard(send(owner, general, "noise")) == {}
    assert heard(send(owner, general, "@everyone news")) == {"alice": "everyone"}
    services.update_guild_settings(user=alice, guild_id=guild.id, muted=False)
    assert heard(send(owner, general, "noise again")) == {"alice": "message"}


# --- direct messages --------------------------------------------------------------------------------

def test_dms_and_group_dms_notify_every_message_unless_muted(owner, alice, bob, carol):
    dm, _ = dms.open_dm(user=alice, recipient_id=bob.id)
    assert heard(send(alice, dm, "hey")) == {"bob": "dm"}
    group = dms.create_group_dm(owner=alice, recipient_ids=[bob.id, carol.id], name="Weekend")
    assert heard(send(alice, group, "plans?")) == {"bob": "dm", "carol": "dm"}
    services.update_channel_settings(user=bob, channel_id=group.id, muted=True, mute_minutes=15)
    services.update_channel_settings(user=carol, channel_id=group.id, level="nothing")
    assert heard(send(alice, group, "anyone?")) == {}
    assert heard(send(alice, group, "@bob you?")) == {"bob": "mention"}


# --- never ------------------------------------------------------------------------------------------

def test_a_blocked_author_never_notifies(owner, alice, bob, carol, general):
    group = dms.create_group_dm(owner=alice, recipient_ids=[bob.id, carol.id])
    accounts.block_user(user=bob, target_id=carol.id)
    assert heard(send(carol, general, "@bob @alice hi")) == {"alice": "mention"}
    assert heard(send(carol, group, "hello group")) == {"alice": "dm"}


def test_a_held_message_never_notifies(owner, alice, general):
    msg = send(owner, general, "@alice something rude")
    chat.set_visibility(message=msg, visibility=Message.Visibility.HELD)
    assert heard(msg) == {}


# --- what reaches the sockets ----------------------------------------------------------------------

def test_deciding_who_hears_waits_for_the_commit(owner, alice, general, django_capture_on_commit_callbacks):
    """The message's event is published at the commit; the reads that decide whether anyone could
    be notified run after it, so delivery to the open sockets never waits for them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def settings_reads(queries) -> int:
        return sum("notifications_" in q["sql"] for q in queries.captured_queries)

    with CaptureQueriesContext(connection) as inside, \
            django_capture_on_commit_callbacks(execute=False) as after_commit:
        send(owner, general, "hello")
    assert settings_reads(inside) == 0
    with CaptureQueriesContext(connection) as later:
        for callback in after_commit:
            callback()
    assert settings_reads(later) > 0


def test_each_member_hears_on_their_own_sockets(owner, alice, general, listen,  # noqa: F811
                                               django_capture_on_commit_callbacks):
    socket = listen(f"user.{alice.id}")
    msg = send(owner, general, "@alice the **release** is out")
    with django_capture_on_commit_callbacks(execute=True):
        services.notify_message(msg.id)
    event = socket.receive()
    assert event["t"] == "NOTIFICATION_CREATE"
    assert event["d"] == {
        "message_id": msg.id, "channel_id": general.id, "guild_id": general.guild_id, "channel_type": "text",
        "reason": "mention", "title": "Owner (#general, Test Guild)", "body": "@Alice the release is out",
        "text": "@Alice the release is out", "files": 0,
        "author": {"id": owner.id, "display_name": "Owner", "avatar": None},
        "url": f"/guilds/{general.guild_id}/channels/{general.id}?around={msg.id}", "tag": f"msg-{msg.id}",
        "created_at": msg.created_at.isoformat()}


def test_settings_changes_reach_the_members_other_tabs(guild, owner, alice, general, listen,  # noqa: F811
                                                       django_capture_on_commit_callbacks):
    socket = listen(f"user.{alice.id}")
    with django_capture_on_commit_callbacks(execute=True):
        services.update_channel_settings(user=alice, channel_id=general.id, muted=True, mute_minutes=15)
    event = socket.receive()
    assert event["t"] == "NOTIFICATION_SETTINGS_UPDATE"
    assert event["d"]["channel_id"] == general.id and event["d"]["muted"] is True
    assert event["d"]["level"] == "inherit" and event["d"]["muted_until"]


# --- the settings API -------------------------------------------------------------------------------

def test_settings_api_round_trip(api_as, guild, alice, general):
    api = api_as(alice)
    assert api.get(f"/api/users/@me/guilds/{guild.id}/notification-settings").json() == {
        "guild_id": guild.id, "channel_id": None, "level": "mentions", "suppress_everyone": False,
        "muted": False, "muted_until": None}
    answer = api.patch(f"/api/users/@me/guilds/{guild.id}/notification-settings",
                       {"level": "all", "suppress_everyone": True, "muted": True, "mute_minutes": 480}, format="json")
    assert answer.status_code == 200
    body = answer.json()
    assert body["level"] == "all" and body["suppress_everyone"] and body["muted"]
    until = timezone.datetime.fromisoformat(body["muted_until"])
    assert timedelta(hours=7, minutes=59) < until - timezone.now() <= timedelta(hours=8)
    answer = api.patch(f"/api/users/@me/channels/{general.id}/notification-settings", {"level": "nothing"},
                       format="json")
    assert answer.status_code == 200 and answer.json()["level"] == "nothing"
    listed = api.get("/api/users/@me/notification-settings").json()
    assert [g["guild_id"] for g in listed["guilds"]] == [guild.id]
    assert [(c["channel_id"], c["level"]) for c in listed["channels"]] == [(general.id, "nothing")]


@pytest.mark.parametrize(("path", "body", "field"), [
    ("guild", {"level": "loud"}, "level"),
    ("guild", {"muted": True, "mute_minutes": 7}, "mute_minutes"),
    ("guild", {"suppress_everyone": "maybe"}, "suppress_everyone"),
    ("channel", {"level": 3}, "level"),
    ("channel", {"mute_minutes": 60}, "mute_minutes"),
])
def test_settings_api_refuses_bad_values(api_as, guild, alice, general, path, body, field):
    url = (f"/api/users/@me/guilds/{guild.id}/notification-settings" if path == "guild"
           else f"/api/users/@me/channels/{general.id}/notification-settings")
    answer = api_as(alice).patch(url, body, format="json")
    assert answer.status_code == 400
    assert field in answer.json()["error"]["fields"]
    assert not GuildSettings.objects.exists() and not ChannelSettings.objects.exists()


def test_settings_for_a_guild_or_channel_the_user_cannot_see_are_404(api_as, guild, owner, alice):
    other = UserFactory()
    stranger_guild = guild_services.create_guild(owner=other, name="Elsewhere")
    hidden = guild_services.create_channel(actor=owner, guild=guild, name="hidden")
    everyone = Role.objects.get(guild=guild, is_default=True)
    guild_services.set_overwrite(actor=owner, channel=hidden, role=everyone, allow=0, deny=int(P.VIEW_CHANNEL))
    api = api_as(alice)
    for url in (f"/api/users/@me/guilds/{stranger_guild.id}/notification-settings",
                f"/api/users/@me/channels/{hidden.id}/notification-settings",
                "/api/users/@me/channels/999999/notification-settings"):
        assert api.patch(url, {"muted": True}, format="json").status_code == 404
        assert api.get(url).status_code == 404
    assert not GuildSettings.objects.exists() and not ChannelSettings.objects.exists()


def test_a_dm_of_others_and_a_thread_take_no_settings(api_as, guild, owner, alice, bob, general):
    from apps.chat import thread_services

    dm, _ = dms.open_dm(user=owner, recipient_id=bob.id)
    api = api_as(alice)
    assert api.patch(f"/api/users/@me/channels/{dm.id}/notification-settings", {"muted": True},
                     format="json").status_code == 404
    thread = thread_services.create_thread(actor=owner, channel_id=general.id, message_id=send(owner, general, "t").id,
                                           name="T")
    answer = api.patch(f"/api/users/@me/channels/{thread.channel_id}/notification-settings", {"level": "all"},
                       format="json")
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "thread_settings"


def test_presence_that_cannot_be_read_counts_as_offline(owner, alice, general, monkeypatch):
    from redis.exceptions import ConnectionError as RedisDown

    from apps.notifications import hooks, selectors

    def down(user_ids):
        raise RedisDown("presence is down")

    monkeypatch.setattr(hooks.statuses, "fn", down)
    assert heard(send(owner, general, "@here anyone?")) == {}  # nobody known to be online
    assert heard(send(owner, general, "@alice you")) == {"alice": "mention"}  # the rest goes on
    assert selectors.away([alice.id]) == {alice.id}  # her devices get the push
