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
