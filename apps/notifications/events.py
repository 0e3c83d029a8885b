"""Notification events: each goes to one user's sockets (their group `user.<id>`). They carry the
message's guild_id and channel_id, so the gateway relays them only to connections that can view
that channel."""
from apps.core.events import publish, user_group

# A message the user should hear of (payloads.notification): a tab that is hidden shows it as a
# desktop notification.
NOTIFICATION_CREATE = "NOTIFICATION_CREATE"
# The user changed their settings for a guild, a channel or a DM (payloads.guild_settings, payloads.channel_settings):
# their other tabs follow (mutes hide unread badges).
NOTIFICATION_SETTINGS_UPDATE = "NOTIFICATION_SETTINGS_UPDATE"

# Someone followed the user, or liked, reposted or commented on one of their tracks, or replied to
# their comment (payloads.activity, with the bell's `unread_count`).
ACTIVITY_CREATE = "ACTIVITY_CREATE"

EVENTS = (NOTIFICATION_CREATE, NOTIFICATION_SETTINGS_UPDATE, ACTIVITY_CREATE)


def to_user(user_id: int, event_type: str, data: dict) -> None:
    publish(user_group(user_id), event_type, data)
