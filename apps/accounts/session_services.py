"""Signed-in browsers: recording them, listing them (selectors), signing them out. Signing a
session out deletes the Django session (its cookie no longer signs in) and closes its gateway
sockets, after commit."""
from __future__ import annotations

import logging
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from apps.core.errors import NotFound

from . import events
from .models import User, UserSession

log = logging.getLogger(__name__)
SEEN_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often per session


def _store(session_key: str):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def touch_session(user: User, *, session_key: str, user_agent: str, ip: str) -> None:
    """Record that `user` used this session now (created on its first request after sign-in)."""
    now = timezone.now()
    updated = UserSession.objects.filter(session_key=session_key, user=user).update(
        last_seen_at=now, ip=ip[:64], user_agent=user_agent[:300])
    if updated:
        return
    try:
        with transaction.atomic():
            # A key that changed hands (it cannot, but a stale row must never show someone else's
            # browser) is replaced.
            UserSession.objects.filter(session_key=session_key).delete()
            UserSession.objects.create(user=user, session_key=session_key, ip=ip[:64], user_agent=user_agent[:300],
                                       created_at=now, last_seen_at=now)
    except IntegrityError:
        pass  # two requests of the same new session at once: the other one recorded it


@transaction.atomic
def end_session(user: User, *, session_id: int) -> None:
    """Sign out one of `user`'s browsers: its cookie no longer signs in, its sockets close."""
    row = UserSession.objects.select_for_update().filter(pk=session_id, user=user).first()
    if row is None:
        raise NotFound(gettext("This session has already ended."), code="unknown_session")
    _end(user.id, [row.session_key])
    log.info("user %s signed out session %s", user.pk, row.pk)


@transaction.atomic
def end_other_sessions(user: User, *, keep_session_key: str | None) -> int:
    """Sign out every browser of `user` but the one with `keep_session_key`; how many ended."""
    keys = list(UserSession.objects.filter(user=user).exclude(session_key=keep_session_key or "")
                .values_list("session_key", flat=True))
    _end(user.id, keys)
    return len(keys)


def forget_session(user: User, session_key: str | None) -> None:
    """The browser signed out by itself: drop its row and close its sockets."""
    if session_key and user.is_authenticated:
        with transaction.atomic():
            UserSession.objects.filter(session_key=session_key).delete()
            events.end_sessions(user.id, session_keys=[session_key])


def _end(user_id: int, keys: list[str]) -> None:
    for key in keys:
        _store(key).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    events.end_sessions(user_id, session_keys=keys)
