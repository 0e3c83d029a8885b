"""Account events. SESSION_END is a control event for the gateway, never dispatched to a client:
sent to the user's group, naming the sign-ins that ended (a session or a token), it closes the
sockets that signed in with one of them (4003). Through the user's group rather than a group per
sign-in: every socket joins its user's group anyway, and a group of its own would be a second
subscription per socket, a reconnect storm's cost paid for an event that is rare."""
import hashlib

from apps.core.events import publish, user_group

SESSION_END = "SESSION_END"

# No event of this app reaches a client (the registry docs/gateway.md is checked against).
EVENTS = ()


def session_sign_in(session_key: str) -> str:
    """The name of one browser session's sign-in. A hash: session keys are credentials, events are
    written to Redis and to logs."""
    return f"session.{hashlib.sha256(session_key.encode()).hexdigest()[:32]}"


def token_sign_in(token_id: int) -> str:
    """The name of a sign-in with one API token."""
    return f"token.{token_id}"


def end_sessions(user_id: int, session_keys=(), token_ids=()) -> None:
    """Close, after commit, the gateway sockets of these sessions and tokens of the user."""
    ended = [session_sign_in(k) for k in session_keys] + [token_sign_in(t) for t in token_ids]
    if ended:
        publish(user_group(user_id), SESSION_END, {"sign_ins": ended})
