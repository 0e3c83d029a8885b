"""Every real-time event the guilds domain publishes, and where it goes. Their data is built in
payloads.py and documented by serializers.py's EVENT_SHAPES."""
from apps.core.events import guild_group, publish, user_group

# To a user's group: they joined a guild (the gateway subscribes their sockets to it).
GUILD_CREATE = "GUILD_CREATE"
GUILD_UPDATE = "GUILD_UPDATE"
GUILD_DELETE = "GUILD_DELETE"
CHANNEL_CREATE = "CHANNEL_CREATE"
CHANNEL_UPDATE = "CHANNEL_UPDATE"
CHANNEL_DELETE = "CHANNEL_DELETE"
ROLE_CREATE = "GUILD_ROLE_CREATE"
ROLE_UPDATE = "GUILD_ROLE_UPDATE"
ROLE_DELETE = "GUILD_ROLE_DELETE"
MEMBER_ADD = "GUILD_MEMBER_ADD"
MEMBER_UPDATE = "GUILD_MEMBER_UPDATE"
MEMBER_REMOVE = "GUILD_MEMBER_REMOVE"
BAN_ADD = "GUILD_BAN_ADD"
BAN_REMOVE = "GUILD_BAN_REMOVE"
INVITE_CREATE = "INVITE_CREATE"
INVITE_DELETE = "INVITE_DELETE"
# Tells a gateway to recompute what the listed users (or all members) may see.
PERMISSIONS_CHANGED = "PERMISSIONS_CHANGED"

# The events this app publishes (the registry docs/gateway.md and /api/schema/ are checked against).
EVENTS = (GUILD_CREATE, GUILD_UPDATE, GUILD_DELETE, CHANNEL_CREATE, CHANNEL_UPDATE, CHANNEL_DELETE, ROLE_CREATE,
          ROLE_UPDATE, ROLE_DELETE, MEMBER_ADD, MEMBER_UPDATE, MEMBER_REMOVE, BAN_ADD, BAN_REMOVE, INVITE_CREATE,
          INVITE_DELETE, PERMISSIONS_CHANGED)


def to_guild(guild_id: int, event_type: str, data: dict) -> None:
    publish(guild_group(guild_id), event_type, data)


def to_user(user_id: int, event_type: str, data: dict) -> None:
    publish(user_group(user_id), event_type, data)
