"""Session authentication for WebSockets: the user of the session cookie, as Django's own login
sees it (the session's password hash is checked, so a password change logs sockets out too).

It replaces Channels' AuthMiddlewareStack (cookie, session and auth middleware) because of what
matters on a node holding tens of thousands of sockets: it reads the session and the user on a
thread of the READY pool, in the trip that reads READY too, instead of queueing on Channels'
single database thread; it leaves `send` unwrapped (the session middleware wraps it, a coroutine
per frame on every broadcast); it copies no scope (the stack kept three copies per socket); and it
is a call the consumer makes, not a middleware whose coroutine would stay suspended, a frame per
socket, until the socket closes. The gateway only reads the session; nothing here writes it.
"""
from __future__ import annotations

from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib import auth

from apps.accounts import events as account_events
from apps.accounts import token_services
from apps.accounts.auth import secret_from_header
from apps.core.errors import DomainError

from .reads import cookies_of, header


def user_of(session_key: str | None):
    """The user logged in with that session, or AnonymousUser."""
    if not session_key:
        return auth.models.AnonymousUser()
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return auth.get_user(SimpleNamespace(session=session))


def credentials_of(session_key: str | None, authorization: str):
    """(user, the name of this sign-in (SESSION_END names it), error): from the session cookie, else from
    an API token with the `gateway` scope in the Authorization header (bots and scripts)."""
    user = user_of(session_key)
    if user.is_authenticated:
        return user, account_events.session_sign_in(session_key), None
    secret = secret_from_header(authorization) if authorization else None
    if secret is None:
        return user, None, None
    try:
        token_user, token = token_services.authenticate_token(secret)
        token_services.require_scope(token, "gateway")
    except DomainError as exc:
        return user, None, exc.as_dict()
    return token_user, account_events.token_sign_in(token.id), None


def authenticate(scope):
    """The scope's user from the session cookie or an API token (also set as `user`), with
    `sign_in` (signing that session out or revoking that token closes the socket) and
    `auth_error` (why a token was refused). Run on a READY thread, in the same trip as the READY
    reads (consumers.py). Set on the server's own scope rather than on a copy, as uvicorn's
    proxy-headers middleware does with "client": a copy would be kept for the socket's life."""
    scope["user"], scope["sign_in"], scope["auth_error"] = credentials_of(
        cookies_of(scope).get(settings.SESSION_COOKIE_NAME), header(scope, b"authorization"))
    return scope["user"]
