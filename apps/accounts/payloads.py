"""The shapes of the account API's answers, built here only. Documented by api.py's output
serializers; a test checks what these functions build against /api/schema/."""
from __future__ import annotations


def token(key: str) -> dict:
    return {"token": key}


def me(user, *, two_factor: bool) -> dict:
    """The signed-in user, as they see themselves."""
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "email": user.email,
            "bio": user.bio, "two_factor": two_factor}


def blocked_user(user) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.shown_name}


def api_token(token, *, secret: str | None = None) -> dict:
    """An API token as its owner sees it; `secret` only in the answer that created it."""
    out = {"id": token.id, "name": token.name, "prefix": token.prefix, "scopes": list(token.scopes),
           "created_at": token.created_at.isoformat(), "expires_at": token.expires_at.isoformat(),
           "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
           "expired": not token.is_live}
    if secret is not None:
        out["secret"] = secret
    return out
