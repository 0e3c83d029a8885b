"""Chat events. Every one goes to the guild's group with its channel_id; the gateway forwards it
only to connections that can view that channel. Events of a DM go to its recipients' user groups.
Their data is built in payloads.py and documented by serializers.py's EVENT_SHAPES."""
from apps.core.bus import meter
from apps.core.events import guild_group, publish, user_group
from apps.guilds.models import DMRecipient

MESSAGE_CREATE = "MESSAGE_CREATE"
MESSAGE_UPDATE = "MESSAGE_UPDATE"
MESSAGE_DELETE = "MESSAGE_DELETE"
MESSAGE_REACTION_ADD = "MESSAGE_REACTION_ADD"
MESSAGE_REACTION_REMOVE = "MESSAGE_REACTION_REMOVE"
CHANNEL_PINS_UPDATE = "CHANNEL_PINS_UPDATE"
TYPING_START = "TYPING_START"
MESSAGE_ACK = "MESSAGE_ACK"
# The busiest events: the gateway's deliveries metric counts each under its own name.
meter(MESSAGE_CREATE, MESSAGE_UPDATE, MESSAGE_DELETE, MESSAGE_REACTION_ADD, MESSAGE_REACTION_REMOVE, TYPING_START)


def to_channel(channel, event_type: str, data: dict) -> None:
    publish(channel_groups(channel), event_type, {"channel_id": channel.id, "guild_id": channel.guild_id, **data})


def to_user(user_id: int, event_type: str, data: dict) -> None:
    publish(user_group(user_id), event_type, data)


def channel_groups(channel) -> str | list[str]:
    """Who hears of a channel's events: its guild, or (a DM) each of its recipients as of now."""
    if channel.guild_id is not None:
        return guild_group(channel.guild_id)
    return [user_group(uid) for uid in DMRecipient.objects.filter(channel_id=channel.id)
            .values_list("user_id", flat=True)]


# Threads. Their events carry the thread's "id" and "parent_id", and "channel_id" is the parent:
# a thread is visible exactly when its parent is, so the gateway filters them on the parent.
THREAD_CREATE = "THREAD_CREATE"
THREAD_UPDATE = "THREAD_UPDATE"
THREAD_DELETE = "THREAD_DELETE"
THREAD_MEMBERS_UPDATE = "THREAD_MEMBERS_UPDATE"

# The events this app publishes (the registry docs/gateway.md and /api/schema/ are checked against).
EVENTS = (MESSAGE_CREATE, MESSAGE_UPDATE, MESSAGE_DELETE, MESSAGE_REACTION_ADD, MESSAGE_REACTION_REMOVE,
          CHANNEL_PINS_UPDATE, TYPING_START, MESSAGE_ACK, THREAD_CREATE, THREAD_UPDATE, THREAD_DELETE,
          THREAD_MEMBERS_UPDATE)


def to_parent(thread_channel, event_type: str, data: dict) -> None:
    publish(guild_group(thread_channel.guild_id), event_type,
            {**data, "channel_id": thread_channel.parent_id, "guild_id": thread_channel.guild_id})
