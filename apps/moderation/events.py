"""Moderation events. Hiding and restoring a message are told with chat's events (see
apps/chat/services.set_visibility): MESSAGE_DELETE with "held": true to the channel, MESSAGE_UPDATE
with "held": true to the author, MESSAGE_UPDATE with "restored": true when approved. Their data is
built in payloads.py and documented by serializers.py's EVENT_SHAPES."""
from apps.core.events import publish, user_group

MEMBER_WARNING = "MEMBER_WARNING"
MEMBER_WARNING_ACK = "MEMBER_WARNING_ACK"
REPORT_UPDATE = "REPORT_UPDATE"

# The events this app publishes (the registry docs/gateway.md and /api/schema/ are checked against).
EVENTS = (MEMBER_WARNING, MEMBER_WARNING_ACK, REPORT_UPDATE)


def to_user(user_id: int, event_type: str, data: dict) -> None:
    publish(user_group(user_id), event_type, data)
