"""API tokens: several named ones per user, each with scopes and an expiry. The secret is shown
once and only its SHA-256 is stored (it is 256 random bits: a slow hash would add nothing)."""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from apps.core.errors import Forbidden, NotAuthenticated, NotFound, ValidationFailed

from . import events
from .models import ApiToken, User

log = logging.getLogger(__name__)
SCOPES = tuple(ApiToken.Scope.values)
PREFIX = "smartc_"
MAX_TOKENS = 50  # live tokens per user made on the tokens page or the API
LOGIN_TOKENS_KEPT = 10  # live tokens per user from POST /api/auth/token
USED_EVERY = timedelta(seconds=60)  # last_used_at is written at most this often


class MissingScope(Forbidden):
    code = "missing_scope"

    def __init__(self, scope: str):
        super().__init__(gettext("This token lacks the “%(scope)s” scope.") % {"scope": scope})
        self.scope = scope

    def as_dict(self) -> dict:
        return {**super().as_dict(), "scope": self.scope}


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_token(user: User, *, name: str, scopes, expires_in_days: int) -> tuple[ApiToken, str]:
    """A new token and its secret (shown to the user once, never stored)."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ValidationFailed.field("name", gettext("Give the token a name of 1 to 64 characters."))
    if isinstance(scopes, str) or not isinstance(scopes, (list, tuple, set)) or not scopes \
            or any(s not in SCOPES for s in scopes):
        raise ValidationFailed.field("scopes", gettext("Choose one or more scopes among: %(scopes)s.")
                                     % {"scopes": ", ".join(SCOPES)})
    if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int) \
            or not 1 <= expires_in_days <= settings.API_TOKEN_MAX_DAYS:
        n = settings.API_TOKEN_MAX_DAYS
        raise ValidationFailed.field("expires_in_days", ngettext(
            "A token lasts from 1 to %(n)s day.", "A token lasts from 1 to %(n)s days.", n) % {"n": n})
    User.objects.select_for_update().filter(pk=user.pk).first()  # one creation at a time per user
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now(),
                               from_login=False).count() >= MAX_TOKENS:
        raise ValidationFailed(gettext("You have too many tokens: revoke some first."), code="too_many_tokens")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=secret[:len(PREFIX) + 6], key_hash=_hash(secret),
                                    scopes=[s for s in SCOPES if s in scopes],
                                    expires_at=timezone.now() + timedelta(days=expires_in_days))
    log.info("user %s created API token %s", user.pk, token.pk)
    return token, secret


@transaction.atomic
def issue_login_token(user: User) -> str:
    """The token POST /api/auth/token hands out for a username and password: every scope,
    API_TOKEN_LOGIN_DAYS days. A script that signs in on every run would pile them up: past
    LOGIN_TOKENS_KEPT live ones, the oldest are revoked."""
    token, secret = create_token(user, name=gettext("API login"), scopes=list(SCOPES),
                                 expires_in_days=settings.API_TOKEN_LOGIN_DAYS)
    ApiToken.objects.filter(pk=token.pk).update(from_login=True)
    stale = list(ApiToken.objects.filter(user=user, from_login=True, revoked_at__isnull=True)
                 .order_by("-created_at", "-id").values_list("id", flat=True)[LOGIN_TOKENS_KEPT:])
    if stale:
        ApiToken.objects.filter(pk__in=stale).update(revoked_at=timezone.now())
        events.end_sessions(user.id, token_ids=stale)
    return secret


@transaction.atomic
def revoke_token(user: User, *, token_id: int) -> None:
    """Revoke one of `user`'s tokens: refused from now on, and the sockets it opened close."""
    updated = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if not updated:
        raise NotFound(gettext("Unknown token."), code="unknown_token")
    events.end_sessions(user.id, token_ids=[token_id])
    log.info("user %s revoked API token %s", user.pk, token_id)


@transaction.atomic
def revoke_all_tokens(user: User) -> int:
    """Revoke every live token of `user` (the account is going away); their sockets close."""
    ids = list(ApiToken.objects.filter(user=user, revoked_at__isnull=True).values_list("pk", flat=True))
    ApiToken.objects.filter(pk__in=ids).update(revoked_at=timezone.now())
    if ids:
        events.end_sessions(user.id, token_ids=ids)
    return len(ids)


def authenticate_token(secret: str) -> tuple[User, ApiToken]:
    """The user and token of a secret; NotAuthenticated for an unknown, revoked or expired one, or
    an inactive user. The same message for each: a client learns only that it is not valid now."""
    token = ApiToken.objects.select_related("user").filter(key_hash=_hash(secret)).first() if secret else None
    if token is None or not token.is_live or not token.user.is_active:
        raise NotAuthenticated(gettext("This token is not valid: unknown, expired or revoked."),
                               code="authentication_failed")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user, token


def require_scope(token: ApiToken | None, scope: str) -> None:
    """Raises MissingScope (403) unless `token` is None (a browser session) or carries `scope`."""
    if token is not None and scope not in token.scopes:
        raise MissingScope(scope)
