"""Bot tokens, shaped like Discord's: the bot's id in base64, a dot, then 32 random bytes. Only the
SHA-256 digest is stored; a token is compared by looking its digest up."""
from __future__ import annotations

import base64
import hashlib
import secrets

MAX_LENGTH = 200


def new_token(bot_id: int) -> str:
    head = base64.urlsafe_b64encode(str(bot_id).encode()).decode().rstrip("=")
    return f"{head}.{secrets.token_urlsafe(32)}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
