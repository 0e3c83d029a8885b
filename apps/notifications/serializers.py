"""Output shapes of the notifications app, for the OpenAPI schema: a member's settings, a push
subscription, and the data of its events. Built by payloads.py; tests/integration/test_payloads.py
checks them."""
from rest_framework import serializers

from apps.core.fields import StrictCharField

from . import events


class SettingsOut(serializers.Serializer):
    """A guild's, a channel's or a DM's settings (payloads.guild_settings, payloads.channel_settings)."""

    guild_id = serializers.IntegerField(allow_null=True, help_text="Null for a DM.")
    channel_id = serializers.IntegerField(allow_null=True, help_text="Null for a guild's own settings.")
    level = StrictCharField(help_text="all, mentions or nothing; a channel or DM may also say inherit.")
    suppress_everyone = serializers.BooleanField(required=False, help_text="Guilds only.")
    muted = serializers.BooleanField(help_text="Muted now (a mute whose time ran out is over).")
    muted_until = serializers.DateTimeField(allow_null=True, help_text="When the mute ends; null: not muted, "
                                                                       "or until turned back on.")


class AllSettingsOut(serializers.Serializer):
    guilds = SettingsOut(many=True)
    channels = SettingsOut(many=True, help_text="Channel overrides and DMs.")


class VapidKeyOut(serializers.Serializer):
    public_key = StrictCharField(help_text="The applicationServerKey to subscribe with (base64url, an "
                                           "uncompressed P-256 point).")


class SubscriptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    endpoint = StrictCharField()
    user_agent = StrictCharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class NotificationAuthorOut(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = StrictCharField()
    avatar = StrictCharField(allow_null=True)


class NotificationEventOut(serializers.Serializer):
    """NOTIFICATION_CREATE: a message the user should hear of (payloads.notification)."""

    message_id = serializers.IntegerField()
    channel_id = serializers.IntegerField()
    guild_id = serializers.IntegerField(allow_null=True, help_text="Null for a DM.")
    channel_type = StrictCharField()
    reason = StrictCharField(help_text="dm, mention, role, reply, everyone, here or message.")
    title = StrictCharField()
    body = StrictCharField(help_text="The words to show: the text, or how many files it sent.")
    text = StrictCharField(allow_blank=True, help_text="The message as one line of plain text (empty: files only).")
    files = serializers.IntegerField()
    author = NotificationAuthorOut(allow_null=True)
    url = StrictCharField(help_text="Where a click leads: the message in its channel.")
    tag = StrictCharField(help_text="msg-<id>: a device shows one notification per message.")
    created_at = serializers.DateTimeField()


class ActivityOut(serializers.Serializer):
    """Activity on your tracks or profile (payloads.activity)."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["follow", "like", "repost", "comment", "reply"])
    title = StrictCharField(help_text="The words to show: \"Ada liked Night Drive\".")
    body = StrictCharField(allow_blank=True, help_text="The comment's text (comment and reply), else empty.")
    actor = NotificationAuthorOut()
    track_id = serializers.IntegerField(allow_null=True)
    comment_id = serializers.IntegerField(allow_null=True)
    url = StrictCharField(help_text="Where a click leads: the follower's profile, or the track (at the comment).")
    tag = StrictCharField(help_text="activity-<id>: a device shows it once.")
    created_at = serializers.DateTimeField()
    read = serializers.BooleanField()


class ActivityEventOut(ActivityOut):
    """ACTIVITY_CREATE: a new activity, and how many are now unread (the bell's count)."""

    unread_count = serializers.IntegerField()


class ActivityListOut(serializers.Serializer):
    unread_count = serializers.IntegerField()
    items = ActivityOut(many=True)


class ActivitySettingsOut(serializers.Serializer):
    follow = serializers.BooleanField()
    like = serializers.BooleanField()
    repost = serializers.BooleanField()
    comment = serializers.BooleanField()
    reply = serializers.BooleanField()


class ActivitySettingsIn(serializers.Serializer):
    follow = serializers.BooleanField(required=False)
    like = serializers.BooleanField(required=False)
    repost = serializers.BooleanField(required=False)
    comment = serializers.BooleanField(required=False)
    reply = serializers.BooleanField(required=False)


EVENT_SHAPES = {
    events.NOTIFICATION_CREATE: NotificationEventOut,
    events.NOTIFICATION_SETTINGS_UPDATE: SettingsOut,
    events.ACTIVITY_CREATE: ActivityEventOut,
}
