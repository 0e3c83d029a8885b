"""Reads of the bots domain."""
from __future__ import annotations

from django.db.models import QuerySet

from apps.guilds.models import Guild
from apps.guilds.permissions import Permission
from apps.guilds.selectors import guild_permissions, guilds_of, member_of

from . import tokens
from .models import Application


def bot_for_token(token) -> object | None:
    """The bot user a token authenticates, or None (unknown, replaced, or not a string)."""
    if not isinstance(token, str) or not token or len(token) > tokens.MAX_LENGTH:
        return None
    app = Application.objects.select_related("bot").filter(token_hash=tokens.digest(token)).first()
    if app is None or not app.bot.is_active:
        return None
    app.bot.bot_app = app
    return app.bot


def application_of_bot(bot) -> Application:
    app = getattr(bot, "bot_app", None)
    return app if app is not None else Application.objects.select_related("owner").get(bot=bot)


def applications_of(user) -> QuerySet[Application]:
    return Application.objects.filter(owner=user).select_related("bot")


def application_by_id(app_id) -> Application | None:
    try:
        return Application.objects.select_related("bot", "owner").filter(pk=int(app_id)).first()
    except (TypeError, ValueError):
        return None


def manageable_guilds(user) -> list[Guild]:
    """The guilds where the user may add a bot (MANAGE_GUILD)."""
    out = []
    for guild in guilds_of(user).order_by("name"):
        member = member_of(user, guild.id)
        if member is not None and guild_permissions(member) & Permission.MANAGE_GUILD:
            out.append(guild)
    return out
