"""Every write of the bots domain: applications, their bot users and tokens, and adding a bot to
a guild (through the guilds domain's own service, so the engine and the audit log see it)."""
from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from apps.core.errors import Forbidden, NotFound, ValidationFailed
from apps.guilds.models import Guild
from apps.guilds.services import add_bot_member

from . import events, tokens
from .models import Application, BotInstall

MAX_APPLICATIONS = 25
_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def _clean_name(name) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not 2 <= len(name) <= 32:
        raise ValidationFailed.field("name", gettext("A name is 2 to 32 characters."))
    return name


def _free_username(name: str) -> str:
    User = get_user_model()
    base = (_NOT_NAME.sub("-", name).strip("-.") or "bot")[:28]
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


@transaction.atomic
def create_application(*, owner, name: str, description: str = "") -> tuple[Application, str]:
    """A new application with its bot user; returns it with the bot's token (shown once)."""
    name = _clean_name(name)
    if getattr(owner, "is_bot", False):
        raise Forbidden(gettext("A bot cannot create applications."), code="bot_forbidden")
    if Application.objects.filter(owner=owner).count() >= MAX_APPLICATIONS:
        raise ValidationFailed.field("name", gettext("You have at most %(n)s applications.") % {"n": MAX_APPLICATIONS})
    bot = get_user_model()(username=_free_username(name), display_name=name, is_bot=True)
    bot.set_unusable_password()
    bot.save()
    token = tokens.new_token(bot.id)
    app = Application.objects.create(owner=owner, name=name, description=(description or "")[:400], bot=bot,
                                     token_hash=tokens.digest(token))
    return app, token


def _own(actor, application: Application) -> None:
    if application.owner_id != actor.id:
        raise NotFound(gettext("Unknown application."), code="unknown_application")


@transaction.atomic
def reset_token(*, actor, application: Application) -> str:
    """Replace the bot's token: the old one stops working at once, and the bot's open gateway
    sockets are closed (4004) once this commits."""
    _own(actor, application)
    return _replace_token(application)


def _replace_token(application: Application) -> str:
    token = tokens.new_token(application.bot_id)
    application.token_hash = tokens.digest(token)
    application.token_reset_at = timezone.now()
    application.save(update_fields=["token_hash", "token_reset_at"])
    events.to_bot(application.bot_id, events.BOT_TOKEN_RESET, {"user_id": application.bot_id})
    return token


@transaction.atomic
def issue_demo_token(*, application: Application) -> str:
    """A new token for the demo bot (make run's seed prints it). Precondition: a management command."""
    return _replace_token(application)


@transaction.atomic
def set_intents(*, actor, application: Application, members: bool, presence: bool,
                message_content: bool) -> Application:
    _own(actor, application)
    application.members_intent, application.presence_intent = bool(members), bool(presence)
    application.message_content_intent = bool(message_content)
    application.save(update_fields=["members_intent", "presence_intent", "message_content_intent"])
    return application


@transaction.atomic
def authorize_bot(*, actor, application: Application, guild_id, permissions) -> BotInstall:
    """Add the application's bot to a guild where the actor has MANAGE_GUILD, with a managed role
    holding `permissions` (checked by the guilds service: none the actor lacks)."""
    guild = Guild.objects.filter(pk=guild_id).first() if str(guild_id).isdigit() else None
    if guild is None:
        raise ValidationFailed.field("guild", gettext("Choose a guild."))
    _member, role = add_bot_member(actor=actor, guild=guild, bot=application.bot, permissions=permissions,
                                   role_name=application.name)
    return BotInstall.objects.create(application=application, guild=guild, role=role, installed_by=actor)
