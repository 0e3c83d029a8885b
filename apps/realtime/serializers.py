"""Output shapes of the events the gateway builds or completes itself (READY, GUILD_MEMBERS_CHUNK,
PRESENCE_UPDATE, and GUILD_CREATE and PERMISSIONS_CHANGED as a connection relays them), for the
OpenAPI schema. Built by payloads.py; tests/integration/test_payloads.py checks them."""
from rest_framework import serializers

from apps.chat.serializers import ThreadOut
from apps.core.fields import StrictCharField
from apps.dms.serializers import DMChannelOut
from apps.guilds import events as guild_events
from apps.guilds.serializers import GuildEventOut
from apps.notifications.serializers import AllSettingsOut

from . import events


class ReadyUserOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = StrictCharField()
    display_name = StrictCharField()


class ChannelEntryOut(serializers.Serializer):
    """A channel the user can view, as READY and PERMISSIONS_CHANGED list it."""

    id = serializers.IntegerField()
    name = StrictCharField()
    type = StrictCharField(help_text="text, voice or announcement.")
    category_id = serializers.IntegerField(allow_null=True)
    position = serializers.IntegerField()


class UnreadChannelEntryOut(ChannelEntryOut):
    unread = serializers.IntegerField(help_text="Messages of others after the user's read marker (at most 100).")
    mentions = serializers.IntegerField(help_text="Those of them that mention the user, a role of theirs or "
                                        "@everyone.")


class ReadyGuildOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = StrictCharField()
    channels = UnreadChannelEntryOut(many=True, help_text="Only those the user can view, by position.")
    role_ids = serializers.ListField(child=serializers.IntegerField(), help_text="Without @everyone.")
    threads = ThreadOut(many=True, help_text="The active threads of those channels, most recently active first.")


class ReadyEventOut(serializers.Serializer):
    user = ReadyUserOut()
    guilds = ReadyGuildOut(many=True)
    private_channels = DMChannelOut(many=True)
    notification_settings = AllSettingsOut(help_text="The user's notification settings that differ from the "
                                                     "defaults.")
    session_id = StrictCharField()


class GuildCreateEventOut(GuildEventOut):
    """GUILD_CREATE: the user joined (or created) a guild; its channels and active threads as in READY."""

    channels = UnreadChannelEntryOut(many=True)
    threads = ThreadOut(many=True)


class PermissionsChangedEventOut(serializers.Serializer):
    guild_id = serializers.IntegerField()
    channel_id = serializers.IntegerField(required=False, help_text="When one channel's overwrites changed.")
    role_id = serializers.IntegerField(required=False, help_text="When one role's permissions changed.")
    channels = ChannelEntryOut(many=True, help_text="Every channel the user can view in the guild now.")


class ListedMemberOut(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = StrictCharField()
    display_name = StrictCharField()
    roles = serializers.ListField(child=serializers.IntegerField())
    status = StrictCharField(help_text="online, idle, dnd or offline.")
    bot = serializers.BooleanField(help_text="A bot account (shown with a BOT tag).")


class MembersChunkEventOut(serializers.Serializer):
    """GUILD_MEMBERS_CHUNK, the answer to REQUEST_MEMBERS (op 8)."""

    guild_id = serializers.IntegerField()
    members = ListedMemberOut(many=True, help_text="Up to MEMBER_LIST_LIMIT, by username.")
    total = serializers.IntegerField(help_text="The guild's member count.")


class PresenceOut(serializers.Serializer):
    user_id = serializers.IntegerField()
    status = StrictCharField(help_text="online, idle, dnd or offline.")


class PresenceUpdateEventOut(serializers.Serializer):
    guild_id = serializers.IntegerField()
    presences = PresenceOut(many=True)


# The events the gateway builds or completes, each with the serializer that documents its `d` (in
# /api/schema/ under x-gateway-events; tests/integration/test_payloads.py checks real events).
EVENT_SHAPES = {
    events.READY: ReadyEventOut,
    events.GUILD_MEMBERS_CHUNK: MembersChunkEventOut,
    events.PRESENCE_UPDATE: PresenceUpdateEventOut,
    guild_events.GUILD_CREATE: GuildCreateEventOut,
    guild_events.PERMISSIONS_CHANGED: PermissionsChangedEventOut,
}
