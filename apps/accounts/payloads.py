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
