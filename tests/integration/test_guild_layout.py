"""The guild layout each gateway process keeps for READY (apps/guilds/layout.py): read once per
guild version, and never stale, whatever path changed the guild (a service, the admin, a bulk write)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.guilds import services
from apps.guilds.models import Channel, Member, PermissionOverwrite, Role
from apps.guilds.permissions import Permission
from apps.realtime import ready, selectors
from tests.factories import UserFactory, add_member, make_guild, make_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def guild():
    owner = UserFactory(username="owner")
    g = make_guild(owner, name="Layout Guild")
    services.create_channel(actor=owner, guild=g, name="lounge")
    return g


def channel_names(user, guild):
    """The text channels the user's READY lists, in order, as the gateway reads it (apps.realtime.ready,
    with its per-process views of each layout version) and as the general path reads it: the two agree."""
    guilds, visible = ready.ready_reads(user, [guild.id])[:2]
    assert (guilds, visible) == selectors.ready_state(user, [guild.id])
    return [c["name"] for c in guilds[0]["channels"] if c["type"] == Channel.Type.TEXT] if guilds else []


def layout_queries(user, guild) -> list[str]:
    """The queries a READY read makes for the layout: roles, channels and threads, overwrites."""
    with CaptureQueriesContext(connection) as ctx:
        selectors.ready_state(user, [guild.id])
    tables = ('"guilds_permissionoverwrite"', '"guilds_role"."guild_id"', '"guilds_channel"."parent_id"')
    return [q["sql"] for q in ctx.captured_queries if any(t in q["sql"].partition("WHERE")[2] for t in tables)]


def test_members_of_one_guild_share_one_read_of_its_layout(guild):
    ann, ben = add_member(guild).user, add_member(guild).user
    assert channel_names(ann, guild) == ["general", "lounge"]
    # Ann's READY read the layout; Ben's, in the same process and version, reads none of it again.
    assert layout_queries(ben, guild) == []
    assert channel_names(ben, guild) == ["general", "lounge"]


def test_an_overwrite_written_outside_the_services_hides_the_channel_at_the_next_ready(guild):
    ann = add_member(guild).user
    assert "lounge" in channel_names(ann, guild)
    lounge = guild.channels.get(name="lounge")
    everyone = Role.objects.get(guild=guild, is_default=True)
    # As the Django admin writes it: a plain save, no service.
    ow = PermissionOverwrite.objects.create(channel=lounge, role=everyone, deny=int(Permission.VIEW_CHANNEL))
    assert channel_names(ann, guild) == ["general"]
    ow.delete()
    assert channel_names(ann, guild) == ["general", "lounge"]


def test_everyone_permissions_channel_edits_reorders_and_deletes_show_at_the_next_ready(guild):
    ann = add_member(guild).user
    owner = guild.owner
    assert channel_names(ann, guild) == ["general", "lounge"]

    lounge = guild.channels.get(name="lounge")
    services.update_channel(actor=owner, channel=lounge, name="hangout")
    assert channel_names(ann, guild) == ["general", "hangout"]

    general = guild.channels.get(name="general")
    voice = guild.channels.get(type=Channel.Type.VOICE)
    services.reorder_channels(actor=owner, guild=guild,
                              order=[(lounge.id, None), (general.id, None), (voice.id, None)])
    assert channel_names(ann, guild) == ["hangout", "general"]

    everyone = Role.objects.get(guild=guild, is_default=True)
    view = int(Permission.VIEW_CHANNEL)
    services.update_role(actor=owner, role=everyone, permissions=int(everyone.permissions) & ~view)
    assert channel_names(ann, guild) == []

    services.update_role(actor=owner, role=everyone, permissions=int(everyone.permissions) | view)
    services.delete_channel(actor=owner, channel=lounge)
    assert channel_names(ann, guild) == ["general"]


def test_a_new_thread_is_among_the_ids_a_socket_relays_at_once(guild):
    from apps.chat import services as chat
    from apps.chat import thread_services

    owner = guild.owner
    general = guild.channels.get(name="general")
    starter = chat.send_message(author=owner, channel_id=general.id, content="shall we plan the gig?")
    selectors.ready_state(owner, [guild.id])  # the layout is cached without the thread
    thread = thread_services.create_thread(actor=owner, channel_id=general.id, name="Gig plans",
                                           message_id=starter.id)
    _, visible = selectors.ready_state(owner, [guild.id])
    assert thread.channel_id in visible[guild.id]


def test_a_roles_permissions_and_who_has_it_show_at_the_next_ready(guild):
    """The roles' permissions come from the cached layout, which members hold comes from the
    membership read of each READY."""
    owner = guild.owner
    lounge = guild.channels.get(name="lounge")
    everyone = Role.objects.get(guild=guild, is_default=True)
    services.set_overwrite(actor=owner, channel=lounge, role=everyone, allow=0, deny=int(Permission.VIEW_CHANNEL))
    crew = make_role(guild, name="crew")
    services.set_overwrite(actor=owner, channel=lounge, role=crew, allow=int(Permission.VIEW_CHANNEL), deny=0)
    ann = add_member(guild)
    assert channel_names(ann.user, guild) == ["general"]

    ann.roles.add(crew)  # as the admin's member form writes it: no layout change
    assert channel_names(ann.user, guild) == ["general", "lounge"]
    guilds, _ = selectors.ready_state(ann.user, [guild.id])
    assert guilds[0]["role_ids"] == [crew.id]

    # A role's own permissions: ADMINISTRATOR on a plain save (the admin's role form) shows every channel.
    services.set_overwrite(actor=owner, channel=lounge, role=crew, allow=0, deny=0)
    assert channel_names(ann.user, guild) == ["general"]
    crew.permissions = int(Permission.ADMINISTRATOR)
    crew.save()
    assert channel_names(ann.user, guild) == ["general", "lounge"]
    crew.delete()
    assert channel_names(ann.user, guild) == ["general"]
    ann.roles.add(make_role(guild, name="stage"))
    assert selectors.ready_state(ann.user, [guild.id])[0][0]["role_ids"] == [Role.objects.get(name="stage").id]

    ann.roles.clear()
    assert selectors.ready_state(ann.user, [guild.id])[0][0]["role_ids"] == []


def test_one_ready_reads_memberships_and_roles_together_whatever_the_guild_count(guild):
    """With the layouts cached, a READY for a member of three guilds with roles in each reads the
    memberships once and the unread counts once: its query count does not grow with its guilds."""
    ann = add_member(guild, roles=[make_role(guild, name="a")]).user
    others = [make_guild(UserFactory(), name=f"Other {i}") for i in range(2)]
    for g in others:
        add_member(g, user=ann, roles=[make_role(g, name="b"), make_role(g, name="c")])
    ids = selectors.guild_ids(ann)
    selectors.ready_state(ann, ids)  # caches the layouts
    with CaptureQueriesContext(connection) as one:
        guilds, _ = selectors.ready_state(ann, ids[:1])
    with CaptureQueriesContext(connection) as three:
        guilds, _ = selectors.ready_state(ann, ids)
    assert [g["name"] for g in guilds] == ["Layout Guild", "Other 0", "Other 1"]
    assert [len(g["role_ids"]) for g in guilds] == [1, 2, 2]
    assert len(three.captured_queries) == len(one.captured_queries) == 2  # memberships and roles; read markers


def test_ready_lists_dms_and_notification_settings_only_when_there_are_some(guild):
    """READY reads a user's DMs and notification settings only when a first probe finds some: what
    it carries is the same as the full reads, settings of every kind included."""
    from apps.dms import services as dms
    from apps.dms.selectors import dm_list
    from apps.notifications import services as notify
    from apps.notifications.selectors import settings_of

    ann = add_member(guild).user
    ids = selectors.guild_ids(ann)
    _, _, private, settings = selectors.ready_reads(ann, ids)
    assert private == [] and settings == {"guilds": [], "channels": []}

    general = guild.channels.get(name="general")
    notify.update_channel_settings(user=ann, channel_id=general.id, muted=True)
    _, _, private, settings = selectors.ready_reads(ann, ids)
    assert [c["channel_id"] for c in settings["channels"]] == [general.id] and settings["guilds"] == []

    notify.update_guild_settings(user=ann, guild_id=guild.id, suppress_everyone=True)
    dm, _ = dms.open_dm(user=ann, recipient_id=guild.owner_id)
    _, _, private, settings = selectors.ready_reads(ann, ids)
    assert [c["id"] for c in private] == [dm.id] and private == dm_list(ann)
    assert settings == settings_of(ann) and [g["guild_id"] for g in settings["guilds"]] == [guild.id]


def test_an_overwrite_of_a_members_own_shows_to_that_member_only(guild):
    """Members with the same roles share one computed view; an overwrite for one member is theirs alone."""
    ann, ben = add_member(guild), add_member(guild)
    assert channel_names(ann.user, guild) == channel_names(ben.user, guild) == ["general", "lounge"]
    lounge = guild.channels.get(name="lounge")
    PermissionOverwrite.objects.create(channel=lounge, member=ann, deny=int(Permission.VIEW_CHANNEL))
    assert channel_names(ann.user, guild) == ["general"]
    assert channel_names(ben.user, guild) == ["general", "lounge"]


def test_the_owner_sees_every_channel_and_a_new_owner_does_at_once(guild):
    lounge = guild.channels.get(name="lounge")
    everyone = Role.objects.get(guild=guild, is_default=True)
    services.set_overwrite(actor=guild.owner, channel=lounge, role=everyone, allow=0,
                           deny=int(Permission.VIEW_CHANNEL))
    ann = add_member(guild)
    assert channel_names(guild.owner, guild) == ["general", "lounge"]
    assert channel_names(ann.user, guild) == ["general"]
    guild.owner = ann.user  # a transfer: a guild row change, no layout change
    guild.save()
    assert channel_names(ann.user, guild) == ["general", "lounge"]


def test_ready_counts_unread_messages_and_mentions_as_the_general_path_does(guild):
    """The gateway's one-batch READY (unread and mention counts, active threads, role ids) carries
    what the ORM path carries, for a member with news, mentions of every kind and threads."""
    from apps.chat import services as chat
    from apps.chat import thread_services

    owner = guild.owner
    crew = make_role(guild, name="crew", mentionable=True)
    ann = add_member(guild, roles=[crew])
    general, lounge = guild.channels.get(name="general"), guild.channels.get(name="lounge")
    chat.ack_message(user=ann.user, channel_id=general.id,
                     message_id=chat.send_message(author=owner, channel_id=general.id, content="read").id)
    chat.send_message(author=owner, channel_id=general.id, content=f"hi <@{ann.user_id}>")
    chat.send_message(author=owner, channel_id=general.id, content="plain news")
    chat.send_message(author=ann.user, channel_id=general.id, content="my own")
    chat.send_message(author=owner, channel_id=lounge.id, content="@everyone gig tonight")
    starter = chat.send_message(author=owner, channel_id=lounge.id, content=f"<@&{crew.id}> plans")
    thread = thread_services.create_thread(actor=owner, channel_id=lounge.id, message_id=starter.id, name="Plans")
    ids = selectors.guild_ids(ann.user)
    fast, general_path = ready.ready_reads(ann.user, ids), selectors.ready_reads(ann.user, ids)
    assert fast == general_path
    channels = {c["name"]: (c["unread"], c["mentions"]) for c in fast[0][0]["channels"]}
    assert (channels["general"], channels["lounge"]) == ((2, 1), (2, 2))
    assert [t["id"] for t in fast[0][0]["threads"]] == [thread.channel_id]
    assert fast[0][0]["role_ids"] == [crew.id]


def test_access_to_a_channel_follows_every_layout_change_at_once(guild):
    """access_channel (every send asks it) reads the @everyone permissions and the overwrites from the
    cached layout: an overwrite, a role's permissions or a change of @everyone written anywhere (the
    admin's plain saves here) applies to the next request, and a thread follows its parent."""
    from apps.core.errors import MissingPermission, NotFound
    from apps.guilds.selectors import access_channel

    ann = add_member(guild).user
    lounge = guild.channels.get(name="lounge")
    everyone = Role.objects.get(guild=guild, is_default=True)
    thread = Channel.objects.create(guild=guild, parent=lounge, name="a thread", type=Channel.Type.THREAD)
    assert access_channel(ann, lounge.id).permissions & Permission.SEND_MESSAGES
    with CaptureQueriesContext(connection) as ctx:
        access_channel(ann, lounge.id)
    assert not [q for q in ctx.captured_queries if '"guilds_permissionoverwrite"' in q["sql"]]  # from the layout

    ow = PermissionOverwrite.objects.create(channel=lounge, role=everyone, deny=int(Permission.SEND_MESSAGES))
    with pytest.raises(MissingPermission):
        access_channel(ann, lounge.id).require(Permission.SEND_MESSAGES)
    role = make_role(guild, name="speakers", permissions=0)
    Member.objects.get(guild=guild, user=ann).roles.add(role)  # not part of the layout: read per request
    PermissionOverwrite.objects.create(channel=lounge, role=role, allow=int(Permission.SEND_MESSAGES))
    access_channel(ann, lounge.id).require(Permission.SEND_MESSAGES)  # the role's overwrite allows it again

    ow.deny = int(Permission.VIEW_CHANNEL)
    ow.save()
    role.permissions = int(Permission.ADMINISTRATOR)
    role.save()
    assert access_channel(ann, lounge.id).permissions & Permission.VIEW_CHANNEL  # an administrator sees it
    role.permissions = 0
    role.save()
    for channel in (lounge, thread):
        with pytest.raises(NotFound):
            access_channel(ann, channel.id)
    ow.delete()
    everyone.permissions = int(everyone.permissions) & ~int(Permission.VIEW_CHANNEL)
    everyone.save()
    with pytest.raises(NotFound):
        access_channel(ann, lounge.id)
