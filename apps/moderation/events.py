"""Moderation events. Hiding and restoring a message are told with chat's events (see
apps/chat/services.set_visibility): MESSAGE_DELETE with "held": true to the channel, MESSAGE_UPDATE
with "held": true to the author, MESSAGE_UPDATE with "restored": true when approved."""
from apps.core.events import publish, user_group

MEMBER_WARNING = "MEMBER_WARNING"


def warning_payload(warning) -> dict:
    return {"id": warning.id, "guild_id": warning.guild_id, "reason": warning.reason,
            "created_at": warning.created_at.isoformat()}


def to_user(user_id: int, event_type: str, data: dict) -> None:
    publish(user_group(user_id), event_type, data)
