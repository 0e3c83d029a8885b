"""The shapes moderation sends: its events' data (events.py publishes them) and the reports API's
answers. Documented by serializers.py and report_api.py; a test checks what these functions build
against /api/schema/. (A held or restored message is told with chat's events and shapes.)"""
from __future__ import annotations


def warning_payload(warning) -> dict:
    """MEMBER_WARNING: a moderator's warning, as the warned member's notice shows it."""
    return {"id": warning.id, "guild_id": warning.guild_id, "guild_name": warning.guild.name,
            "reason": warning.reason, "created_at": warning.created_at.isoformat()}


def warning_seen(warning) -> dict:
    """MEMBER_WARNING_ACK: the member read the warning; their other tabs drop its notice."""
    return {"id": warning.id, "guild_id": warning.guild_id}


def report_payload(report) -> dict:
    """A report as its reporter sees it: what they reported and the outcome, never who decided
    nor which sanction was given."""
    return {"id": report.id, "guild_id": report.guild_id, "type": report.kind, "reason": report.category,
            "details": report.details, "state": report.state, "outcome": report.outcome,
            "created_at": report.created_at.isoformat(),
            "decided_at": report.decided_at.isoformat() if report.decided_at else None}
