"""Output shapes of direct messages, for the OpenAPI schema: the DM channel (REST and events) and
the DM events' data. Built by payloads.py; tests/integration/test_payloads.py checks them."""
from rest_framework import serializers

from apps.core.fields import StrictCharField

from . import events


class UserOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = StrictCharField()
    display_name = StrictCharField()
    avatar = StrictCharField(allow_null=True)


class LastMessageAuthorOut(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    display_name = StrictCharField()


class LastMessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    content = StrictCharField(help_text="A one-line preview: mentions by name, no markdown signs, "
                                              "spoilers masked, at most 200 characters.")
    created_at = serializers.DateTimeField()
    author = LastMessageAuthorOut(allow_null=True)


class DMChannelEventOut(serializers.Serializer):
    """A DM channel as CHANNEL_CREATE and CHANNEL_UPDATE carry it (payloads.channel_payload)."""

    id = serializers.IntegerField()
    guild_id = serializers.IntegerField(allow_null=True, help_text="Always null.")
    type = StrictCharField(help_text="dm or group_dm.")
    name = StrictCharField(help_text="Empty for a 1:1 DM and an unnamed group.")
    owner_id = serializers.IntegerField(allow_null=True, help_text="The group's owner; null for a 1:1 DM.")
    last_message_id = serializers.IntegerField(allow_null=True)
    recipients = UserOut(many=True, help_text="Everyone in it, you included.")


class DMChannelOut(DMChannelEventOut):
    """A DM in the user's list, READY's private_channels and the REST API (payloads.dm_entry)."""

    last_message = LastMessageOut(allow_null=True)
    unread = serializers.IntegerField()
    mentions = serializers.IntegerField()


class DMChannelDeleteEventOut(serializers.Serializer):
    """CHANNEL_DELETE of a DM: the user left the group or was removed from it."""

    id = serializers.IntegerField()
    guild_id = serializers.IntegerField(allow_null=True, help_text="Always null.")
    type = StrictCharField()


class RecipientEventOut(serializers.Serializer):
    """CHANNEL_RECIPIENT_ADD and CHANNEL_RECIPIENT_REMOVE, to the group's other members."""

    channel_id = serializers.IntegerField()
    guild_id = serializers.IntegerField(allow_null=True, help_text="Always null.")
    user = UserOut()


# The gateway events of direct messages, each with the serializer that documents its `d` (in
# /api/schema/ under x-gateway-events, beside guild channels' own shapes of the CHANNEL_* events).
EVENT_SHAPES = {
    events.CHANNEL_CREATE: DMChannelEventOut,
    events.CHANNEL_UPDATE: DMChannelEventOut,
    events.CHANNEL_DELETE: DMChannelDeleteEventOut,
    events.CHANNEL_RECIPIENT_ADD: RecipientEventOut,
    events.CHANNEL_RECIPIENT_REMOVE: RecipientEventOut,
}
