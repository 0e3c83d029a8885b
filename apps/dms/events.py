"""Events of direct messages. They go to the recipients' user groups (a DM has no guild group);
the gateway keeps, per connection, the set of DM channel ids it relays events of."""
from apps.core.events import publish, user_group
from apps.guilds.events import CHANNEL_CREATE, CHANNEL_DELETE, CHANNEL_UPDATE
from apps.guilds.models import Channel

__all__ = ["CHANNEL_CREATE", "CHANNEL_DELETE", "CHANNEL_UPDATE", "CHANNEL_RECIPIENT_ADD", "CHANNEL_RECIPIENT_REMOVE"]

# To the other recipients of a group DM: someone joined it or left it (or was removed).
CHANNEL_RECIPIENT_ADD = "CHANNEL_RECIPIENT_ADD"
CHANNEL_RECIPIENT_REMOVE = "CHANNEL_RECIPIENT_REMOVE"


def user_payload(user) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.shown_name,
            "avatar": user.avatar_url()}


def channel_payload(channel: Channel, recipients) -> dict:
    """A DM channel as events, READY and the REST API show it; `recipients` are users, you included."""
    return {"id": channel.id, "guild_id": None, "type": channel.type, "name": channel.name,
            "owner_id": channel.owner_id, "last_message_id": channel.last_message_id,
            "recipients": [user_payload(u) for u in recipients]}


def to_users(user_ids, event_type: str, data: dict) -> None:
    publish([user_group(uid) for uid in user_ids], event_type, data)


def recipient_change(channel: Channel, user) -> dict:
    return {"channel_id": channel.id, "guild_id": None, "user": user_payload(user)}


def deleted(channel: Channel) -> dict:
    return {"id": channel.id, "guild_id": None, "type": channel.type}
