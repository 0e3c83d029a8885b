"""Events of direct messages. They go to the recipients' user groups (a DM has no guild group);
the gateway keeps, per connection, the set of DM channel ids it relays events of. Their data is
built in payloads.py and documented by serializers.py's EVENT_SHAPES."""
from apps.core.events import publish, user_group
from apps.guilds.events import CHANNEL_CREATE, CHANNEL_DELETE, CHANNEL_UPDATE

__all__ = ["CHANNEL_CREATE", "CHANNEL_DELETE", "CHANNEL_UPDATE", "CHANNEL_RECIPIENT_ADD", "CHANNEL_RECIPIENT_REMOVE"]

# To the other recipients of a group DM: someone joined it or left it (or was removed).
CHANNEL_RECIPIENT_ADD = "CHANNEL_RECIPIENT_ADD"
CHANNEL_RECIPIENT_REMOVE = "CHANNEL_RECIPIENT_REMOVE"

# The events this app publishes (the registry docs/gateway.md and /api/schema/ are checked against).
EVENTS = (CHANNEL_CREATE, CHANNEL_UPDATE, CHANNEL_DELETE, CHANNEL_RECIPIENT_ADD, CHANNEL_RECIPIENT_REMOVE)


def to_users(user_ids, event_type: str, data: dict) -> None:
    publish([user_group(uid) for uid in user_ids], event_type, data)
