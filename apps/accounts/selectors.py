"""Reads of accounts that more than one caller needs."""
from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext

from apps.core.errors import NotFound

from .models import User


def blocked_users(user) -> QuerySet[User]:
    """Whom `user` blocked, earliest first."""
    return User.objects.filter(blocked_by__blocker=user).order_by("blocked_by__created_at", "id")


def has_blocked(user, other_id: int) -> bool:
    return user.blocks.filter(blocked_id=other_id).exists()


def user_by_id(user_id: int) -> User:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(gettext("Unknown user."))
    return user


def user_sessions(user) -> QuerySet:
    """The browsers signed in to `user`'s account, most recently seen first."""
    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from .models import UserSession

    rows = UserSession.objects.filter(user=user)
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        # Signing in again (or changing the password) gives the browser a new key; the old one's
        # row stays until the list is next cleaned, and only live sessions are shown.
        rows = rows.filter(session_key__in=Session.objects.filter(expire_date__gt=timezone.now())
                           .values("session_key"))
    return rows.order_by("-last_seen_at", "-id")


def api_tokens(user) -> QuerySet:
    """`user`'s API tokens that were not revoked (expired ones too, marked as such), newest first."""
    from .models import ApiToken

    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-id")


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def describe_user_agent(user_agent: str) -> str:
    """“Firefox on Linux” from a User-Agent header; the raw start of it for anything else."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    if "HeadlessChrome/" in user_agent:
        browser = "Chrome (headless)"
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    if browser and system:
        return f"{browser} · {system}"
    return browser or system or (user_agent[:60] if user_agent else "?")
