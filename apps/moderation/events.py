"""Moderation events. Hiding and restoring a message are told with chat's events (see
apps/chat/services.set_visibility): MESSAGE_DELETE with "held": true to the channel, MESSAGE_UPDATE
with "held": true to the author, MESSAGE_UPDATE with "restored": true when approved."""
from apps.core.events import publish, user_group

MEMBER_WARNING = "MEMBER_WARNING"
MEMBER_WARNING_ACK = "MEMBER_WARNING_ACK"


def warning_payload(warning) -> dict:
    return {"id": warning.id, "guild_id": warning.guild_id, "guild_name": warning.guild.name,
            "reason": warning.reason, "created_at": warning.created_at.isoformat()}


def to_user(user_id: int, event_type: str, data: dict) -> None:
    publish(user_group(user_id), event_type, data)

REPORT_UPDATE = "REPORT_UPDATE"


def report_payload(report) -> dict:
    """A report as its reporter sees it: what they reported and the outcome, never who decided
    nor which sanction was given."""
    return {"id": report.id, "guild_id": report.guild_id, "type": report.kind, "reason": report.category,
            "details": report.details, "state": report.state, "outcome": report.outcome,
            "created_at": report.created_at.isoformat(),
            "decided_at": report.decided_at.isoformat() if report.decided_at else None}
