"""Account events. SESSION_END is a control event for the gateway, never dispatched to a client:
sent to a session's or a token's group, it closes the sockets that signed in with it (4003)."""
import hashlib

from apps.core.events import publish

SESSION_END = "SESSION_END"

# No event of this app reaches a client (the registry docs/gateway.md is checked against).
EVENTS = ()


def session_group(session_key: str) -> str:
    """The sockets of one browser session. A hash: session keys are credentials, group names are
    written to Redis and to logs."""
    return f"session.{hashlib.sha256(session_key.encode()).hexdigest()[:32]}"


def token_group(token_id: int) -> str:
    """The sockets that signed in with one API token."""
    return f"token.{token_id}"


def end_sessions(session_keys=(), token_ids=()) -> None:
    """Close, after commit, the gateway sockets of these sessions and tokens."""
    groups = [session_group(k) for k in session_keys] + [token_group(t) for t in token_ids]
    if groups:
        publish(groups, SESSION_END, {})
